#if canImport(AVFoundation) && os(iOS)
    import AVFoundation
    import EdgeMEFCore
    import Foundation

    /// Bracketed capture with the back wide camera: one `AVCapturePhotoBracketSettings` request of
    /// auto-exposure brackets at -2, 0 and +2 EV (or -2, +2 for a 2-exposure model). Each photo's metadata is read
    /// back; a bracket whose exposures did not apply (the camera clamps a bias in a very bright or dark scene) is
    /// refused with the reason (`BracketCheck`), never fused.
    public final class BracketCapture: NSObject, AVCapturePhotoCaptureDelegate {
        public let session = AVCaptureSession()
        let output = AVCapturePhotoOutput()
        let queue = DispatchQueue(label: "org.edgemef.demo.capture")
        var device: AVCaptureDevice?
        var pending: [Data] = []
        var failure: Error?
        var continuation: CheckedContinuation<[Data], Error>?

        /// The biases asked for a bracket of `count` exposures.
        public static func biases(count: Int) -> [Float] {
            count == 2 ? [-2, 2] : [-2, 0, 2]
        }

        /// Asks for the camera and sets the session up (call once; throws when there is no camera or no access).
        public func configure() async throws {
            guard await AVCaptureDevice.requestAccess(for: .video) else {
                throw FrameError("the app has no access to the camera (Settings > Privacy > Camera)")
            }
            guard let camera = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .back) else {
                throw FrameError("this device has no back camera")
            }
            session.beginConfiguration()
            defer { session.commitConfiguration() }
            session.sessionPreset = .photo
            let input = try AVCaptureDeviceInput(device: camera)
            guard session.canAddInput(input), session.canAddOutput(output) else {
                throw FrameError("the camera cannot take photos in this configuration")
            }
            session.addInput(input)
            session.addOutput(output)
            output.maxPhotoQualityPrioritization = .quality
            device = camera
        }

        public func start() {
            queue.async { [session] in
                if !session.isRunning {
                    session.startRunning()
                }
            }
        }

        public func stop() {
            queue.async { [session] in
                session.stopRunning()
            }
        }

        /// One bracket: the photos decoded (darkest first is decided later, by EXIF) after checking each one's
        /// exposure against what was asked.
        public func capture(count: Int) async throws -> [DecodedPhoto] {
            let biases = BracketCapture.biases(count: count)
            guard let device = device else {
                throw FrameError("the camera is not set up")
            }
            guard output.maxBracketedCapturePhotoCount >= biases.count else {
                throw FrameError("this camera takes at most \(output.maxBracketedCapturePhotoCount) bracketed photos")
            }
            guard biases.allSatisfy({ $0 >= device.minExposureTargetBias && $0 <= device.maxExposureTargetBias }) else {
                let range = "\(device.minExposureTargetBias)...\(device.maxExposureTargetBias)"
                throw FrameError("this camera's exposure bias is limited to \(range) EV")
            }
            let settings = AVCapturePhotoBracketSettings(
                rawPixelFormatType: 0,
                processedFormat: [AVVideoCodecKey: AVVideoCodecType.jpeg],
                bracketedSettings: biases.map {
                    AVCaptureAutoExposureBracketedStillImageSettings.autoExposureSettings(exposureTargetBias: $0)
                })
            settings.isLensStabilizationEnabled = output.isLensStabilizationDuringBracketedCaptureSupported
            let files = try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<[Data], Error>) in
                queue.async {
                    self.pending = []
                    self.failure = nil
                    self.continuation = continuation
                    self.output.capturePhoto(with: settings, delegate: self)
                }
            }
            let photos = try files.enumerated().map {
                try ImageFiles.decode($0.element, name: "bracket_\($0.offset).jpg")
            }
            try BracketCheck.verify(photos.map(\.frame.exposure), requested: biases.map(Double.init))
            return photos
        }

        public func photoOutput(
            _ output: AVCapturePhotoOutput, didFinishProcessingPhoto photo: AVCapturePhoto, error: Error?
        ) {
            let data = photo.fileDataRepresentation()  // a JPEG with the photo's EXIF: exposure time, ISO, f-number
            queue.async {  // the delegate is called on AVFoundation's queue: the state lives on ours
                if let error = error {
                    self.failure = error
                } else if let data = data {
                    self.pending.append(data)
                } else {
                    self.failure = FrameError("a photo of the bracket came back without image data")
                }
            }
        }

        public func photoOutput(
            _ output: AVCapturePhotoOutput, didFinishCaptureFor resolvedSettings: AVCaptureResolvedPhotoSettings,
            error: Error?
        ) {
            queue.async {
                let continuation = self.continuation
                self.continuation = nil
                if let error = error ?? self.failure {
                    continuation?.resume(throwing: error)
                } else {
                    continuation?.resume(returning: self.pending)
                }
            }
        }
    }
#endif
