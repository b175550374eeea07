package org.edgemef.core;

import java.util.Arrays;
import java.util.Map;

import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * A benchmark run on the phone as a report in the schema of `edgemef profile` (edgemef/profile/schema.py,
 * version 2), so `edgemef profile --render` draws it like a desktop report. The machine is named as it is:
 * the kind ("android-device" or "android-emulator") and the device's own description; the paper's claims
 * are judged by the Python side, against the kind, when it renders.
 */
public final class ProfileReport {
    public static final int SCHEMA_VERSION = 2;

    private ProfileReport() {
    }

    /** Median, p90 (linear interpolation, as numpy's percentile), min, max and every run, in ms. */
    public static JSONObject summary(double[] runsMs) throws JSONException {
        if (runsMs.length == 0) {
            throw new IllegalArgumentException("no runs");
        }
        double[] sorted = runsMs.clone();
        Arrays.sort(sorted);
        JSONArray runs = new JSONArray();
        for (double v : runsMs) {
            runs.put(round(v));
        }
        JSONObject out = new JSONObject();
        out.put("median_ms", round(percentile(sorted, 50)));
        out.put("p90_ms", round(percentile(sorted, 90)));
        out.put("min_ms", round(sorted[0]));
        out.put("max_ms", round(sorted[sorted.length - 1]));
        out.put("runs_ms", runs);
        return out;
    }

    static double percentile(double[] sorted, double q) {
        double position = (sorted.length - 1) * q / 100.0;
        int below = (int) Math.floor(position);
        int above = Math.min(below + 1, sorted.length - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
    }

    private static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    /**
     * The report of {@code runs} fusions of one bracket.
     *
     * @param stages the stage timings, in order ("decode", the family's stages, "encode"), one value per run
     * @param machineKind "android-device" or "android-emulator"
     * @param machine the device in words (model, Android version, runtime and delegate)
     */
    public static JSONObject build(Contract contract, String artifactFile, long sizeBytes, String settings,
                                   Map<String, double[]> stages, String machineKind, String machine,
                                   int width, int height, int threads, long maxRssBytes, long inputBytes)
        throws JSONException {
        if (!stages.containsKey("decode") || !stages.containsKey("encode")) {
            throw new IllegalArgumentException("a report has the decode and encode stages");
        }
        int runs = -1;
        JSONObject stageObject = new JSONObject();
        double[] total = null;
        for (Map.Entry<String, double[]> stage : stages.entrySet()) {
            double[] values = stage.getValue();
            if (runs == -1) {
                runs = values.length;
                total = new double[runs];
            } else if (values.length != runs) {
                throw new IllegalArgumentException("every stage has one value per run");
            }
            for (int i = 0; i < runs; i++) {
                total[i] += values[i];
            }
            stageObject.put(stage.getKey(), summary(values));
        }
        JSONObject artifact = new JSONObject();
        artifact.put("file", artifactFile);
        artifact.put("model", contract.model);
        artifact.put("family", contract.family);
        artifact.put("backend", contract.backend);
        artifact.put("precision", contract.precision);
        artifact.put("settings", settings);
        artifact.put("n_exposures", contract.nExposures);
        artifact.put("size_bytes", sizeBytes);
        JSONObject machineObject = new JSONObject();
        machineObject.put("kind", machineKind);
        machineObject.put("description", machine);
        machineObject.put("threads_used", threads);
        JSONObject memory = new JSONObject();
        memory.put("peak_traced_bytes", 0);
        memory.put("max_rss_bytes", maxRssBytes);
        memory.put("input_bytes", inputBytes);
        JSONObject operators = new JSONObject();
        operators.put("available", false);
        operators.put("why", "the app times stages; per-operator profiles come from the runtime's own tools");
        JSONObject report = new JSONObject();
        report.put("schema_version", SCHEMA_VERSION);
        report.put("producer", "android_demo benchmark mode");
        report.put("artifact", artifact);
        report.put("machine", machineObject);
        report.put("resolution", new JSONArray().put(width).put(height));
        report.put("runs", runs);
        report.put("threads", threads);
        report.put("stages", stageObject);
        report.put("end_to_end", summary(total));
        report.put("memory", memory);
        report.put("operators", operators);
        report.put("sweep", new JSONArray());
        report.put("claims", new JSONArray());
        return report;
    }
}
