package org.edgemef.demo;

import java.io.File;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import android.app.Activity;
import android.content.Intent;
import android.os.Build;
import android.os.Bundle;
import android.util.Log;

import org.edgemef.core.Contract;
import org.edgemef.core.ContractException;
import org.edgemef.core.Frame;
import org.edgemef.core.ProfileReport;
import org.edgemef.demo.gl.GlLutRenderer;
import org.edgemef.demo.predictor.Predictor;
import org.edgemef.demo.predictor.Predictors;
import org.json.JSONObject;

/**
 * Benchmark mode, for {@code edgemef profile --adb}: no UI, one report.
 *
 * <pre>
 * adb shell am start -n org.edgemef.demo/.BenchmarkActivity --es artifact /data/local/tmp/edgemef/X.tflite \
 *     --es bracket /data/local/tmp/edgemef/bracket --es report PATH --ei runs 10 --ei warmup 2
 * </pre>
 *
 * Runs, after {@code warmup} untimed runs, {@code runs} timed ones of decode (the bracket's files to frames,
 * ordered), thumbnails, predictor, apply (GL) and encode (JPEG), then writes the report in the schema of
 * {@code edgemef profile} (core ProfileReport) to {@code report} (default: report.json in the app's external
 * files folder, /sdcard/Android/data/org.edgemef.demo/files, which adb can read: an app cannot write
 * /data/local/tmp), atomically, and logs where under the tag "edgemef". Failures are logged under that tag.
 */
public final class BenchmarkActivity extends Activity {
    static final String TAG = "edgemef";

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        final Intent intent = getIntent();
        new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    File report = benchmark(intent);
                    Log.i(TAG, "benchmark report written to " + report);
                } catch (Exception e) {
                    Log.e(TAG, "benchmark failed: " + e.getMessage(), e);
                }
                finish();
            }
        }, "edgemef-benchmark").start();
    }

    private File benchmark(Intent intent) throws Exception {
        String artifactPath = intent.getStringExtra("artifact");
        String bracketPath = intent.getStringExtra("bracket");
        if (artifactPath == null || bracketPath == null) {
            throw new IllegalArgumentException("start with --es artifact PATH --es bracket DIR");
        }
        int runs = intent.getIntExtra("runs", 10);
        int warmup = intent.getIntExtra("warmup", 2);
        if (runs < 1 || warmup < 0) {
            throw new IllegalArgumentException("runs must be at least 1 and warmup at least 0");
        }
        String reportPath = intent.getStringExtra("report");
        File own = getExternalFilesDir(null); // made on first call: where edgemef profile --adb reads the report
        File report = reportPath != null ? new File(reportPath) : new File(own, "report.json");
        File artifact = new File(artifactPath);
        Contract contract = Artifacts.contract(artifact);
        File[] files = BracketFiles.list(new File(bracketPath));
        int threads = Runtime.getRuntime().availableProcessors();
        Predictor predictor = Predictors.open(contract, artifact, threads);
        GlLutRenderer renderer = new GlLutRenderer(Text.read(getAssets().open("fullscreen.vert")),
            Text.read(getAssets().open("fuse_lut.frag")));
        FusionPipeline pipeline = new FusionPipeline(contract, predictor, renderer);
        Map<String, double[]> stages = new LinkedHashMap<String, double[]>();
        stages.put("decode", new double[runs]);
        for (String stage : FusionPipeline.STAGES) {
            stages.put(stage, new double[runs]);
        }
        stages.put("encode", new double[runs]);
        int width = 0;
        int height = 0;
        long inputBytes = 0;
        try {
            for (int run = -warmup; run < runs; run++) {
                long start = System.nanoTime();
                Frame[] frames = new Frame[files.length];
                for (int k = 0; k < files.length; k++) {
                    frames[k] = BracketFiles.decode(files[k]);
                }
                Frame[] ordered = BracketFiles.ordered(frames);
                double decodeMs = (System.nanoTime() - start) / 1e6;
                FusionPipeline.Result result = pipeline.fuse(ordered);
                long encodeStart = System.nanoTime();
                BracketFiles.jpeg(result.rgb, result.width, result.height);
                double encodeMs = (System.nanoTime() - encodeStart) / 1e6;
                if (run >= 0) {
                    stages.get("decode")[run] = decodeMs;
                    for (int s = 0; s < FusionPipeline.STAGES.length; s++) {
                        stages.get(FusionPipeline.STAGES[s])[run] = result.stageMs[s];
                    }
                    stages.get("encode")[run] = encodeMs;
                }
                width = result.width;
                height = result.height;
                inputBytes = 3L * width * height * ordered.length;
            }
            String machine = Build.MANUFACTURER + " " + Build.MODEL + ", Android " + Build.VERSION.RELEASE + " (API "
                + Build.VERSION.SDK_INT + "), " + predictor.runtime() + " " + predictor.delegate() + ", GPU "
                + renderer.gpu();
            JSONObject json = ProfileReport.build(contract, artifact.getName(), artifact.length(),
                settings(contract), stages, emulator() ? "android-emulator" : "android-device", machine,
                width, height, threads, peakRssBytes(), inputBytes);
            Text.writeAtomically(report, json.toString(2).getBytes("UTF-8"));
        } finally {
            pipeline.close();
        }
        return report;
    }

    /** The report's settings: the LUT grid, and the weight maps' size where the model has them. */
    private static String settings(Contract contract) throws ContractException {
        int[] maps = contract.weightMapSize();
        String grid = "grid " + contract.lutGrid();
        return maps[0] * maps[1] > 1 ? grid + ", weight maps " + maps[0] + "x" + maps[1] : grid;
    }

    /** An Android emulator (the paper's "Android emulator" claim is judged against it). */
    static boolean emulator() {
        return Build.FINGERPRINT.startsWith("generic") || Build.HARDWARE.contains("goldfish")
            || Build.HARDWARE.contains("ranchu") || Build.PRODUCT.contains("sdk");
    }

    /** The process's peak resident memory (VmHWM), or 0 where the kernel does not say. */
    static long peakRssBytes() {
        try {
            for (String line : Text.read(new File("/proc/self/status")).split("\n")) {
                if (line.startsWith("VmHWM:")) {
                    return 1024L * Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            Log.w(TAG, "no peak memory: " + e.getMessage());
        }
        return 0;
    }
}
