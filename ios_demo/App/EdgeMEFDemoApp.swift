import EdgeMEFDemo
import SwiftUI

/// The app's entry point (the Xcode target of project.yml); everything else is in the EdgeMEFDemo library.
@main
struct EdgeMEFDemoApp: App {
    @StateObject private var model = DemoModel()

    var body: some Scene {
        WindowGroup {
            ContentView(model: model)
                .onAppear { model.benchmarkFromLaunchArguments() }
                .onOpenURL { model.open($0) }
        }
    }
}
