#if canImport(SwiftUI) && canImport(UIKit) && canImport(AVFoundation) && canImport(CoreML)
    import AVFoundation
    import EdgeMEFCore
    import PhotosUI
    import SwiftUI
    import UIKit

    /// The screen: artifact and compute units, the camera preview with a capture button, the library picker,
    /// the bracket, the fused picture, the time of each stage, save.
    public struct ContentView: View {
        @ObservedObject var model: DemoModel

        public init(model: DemoModel) {
            self.model = model
        }

        public var body: some View {
            NavigationStack {
                Form {
                    Section("Model") {
                        Picker("Artifact", selection: $model.artifact) {
                            ForEach(model.artifacts, id: \.self) { url in
                                Text(url.lastPathComponent).tag(Optional(url))
                            }
                        }
                        Picker("Compute units", selection: $model.units) {
                            ForEach(BenchmarkRequest.computeUnits, id: \.self) { Text($0).tag($0) }
                        }
                    }
                    Section("Bracket") {
                        CameraPreview(session: model.capture.session)
                            .frame(height: 220)
                            .task { await model.startCamera() }
                        Button("Capture bracket (\(model.biasLabel) EV)") {
                            Task { await model.captureBracket() }
                        }
                        .disabled(model.busy || model.artifact == nil)
                        PhotosPicker(
                            "Pick \(model.exposures) photos of a bracket", selection: $model.pickerItems,
                            maxSelectionCount: model.exposures, matching: .images
                        )
                        .disabled(model.busy || model.artifact == nil)
                        .onChange(of: model.pickerItems) { Task { await model.loadPicked() } }
                        if !model.photos.isEmpty {
                            ScrollView(.horizontal) {
                                HStack {
                                    ForEach(Array(model.photos.enumerated()), id: \.offset) { item in
                                        Image(decorative: item.element.image, scale: 1).resizable().scaledToFit()
                                            .frame(height: 90)
                                    }
                                }
                            }
                        }
                    }
                    if let result = model.result {
                        Section("Fused") {
                            Image(decorative: result.image, scale: 1).resizable().scaledToFit()
                            ForEach(Array(result.stages.enumerated()), id: \.offset) { item in
                                LabeledContent(item.element.0, value: String(format: "%.1f ms", item.element.1))
                            }
                            if result.mapSize.rows * result.mapSize.columns > 1 {
                                LabeledContent(
                                    "weights", value: "maps \(result.mapSize.rows)x\(result.mapSize.columns)")
                            } else {
                                LabeledContent(
                                    "weights",
                                    value: result.weights.map { String(format: "%.3f", $0) }.joined(separator: ", "))
                            }
                            Button("Save to Photos") { Task { await model.save() } }
                        }
                    }
                    if !model.status.isEmpty {
                        Section("Status") {
                            Text(model.status).font(.footnote).textSelection(.enabled)
                        }
                    }
                }
                .navigationTitle("edgemef")
                .overlay { if model.busy { ProgressView() } }
            }
        }
    }

    /// The camera's live picture.
    struct CameraPreview: UIViewRepresentable {
        let session: AVCaptureSession

        final class PreviewView: UIView {
            override class var layerClass: AnyClass { AVCaptureVideoPreviewLayer.self }
            var previewLayer: AVCaptureVideoPreviewLayer { layer as! AVCaptureVideoPreviewLayer }
        }

        func makeUIView(context: Context) -> PreviewView {
            let view = PreviewView()
            view.previewLayer.session = session
            view.previewLayer.videoGravity = .resizeAspect
            return view
        }

        func updateUIView(_ view: PreviewView, context: Context) {}
    }
#endif
