package org.edgemef.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.json.JSONException;
import org.json.JSONObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java core against golden files the Python side wrote from a real bracket (android_demo/tools/
 * make_golden.py; the directory is the system property edgemef.golden): within 1 grey level everywhere.
 */
class CoreTest {
    private static Path golden;
    private static JSONObject meta;
    private static Frame[] shuffled;

    @BeforeAll
    static void load() throws IOException, JSONException {
        golden = Paths.get(System.getProperty("edgemef.golden"));
        meta = new JSONObject(read("meta.json"));
        int n = meta.getInt("n_exposures");
        shuffled = new Frame[n];
        for (int k = 0; k < n; k++) {
            shuffled[k] = new Frame(meta.getInt("width"), meta.getInt("height"),
                Files.readAllBytes(golden.resolve("frame_" + k + ".rgb")));
        }
    }

    private static String read(String name) throws IOException {
        return new String(Files.readAllBytes(golden.resolve(name)), StandardCharsets.UTF_8);
    }

    private static float[] floats(String name) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(Files.readAllBytes(golden.resolve(name))).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[buffer.remaining() / 4];
        buffer.asFloatBuffer().get(out);
        return out;
    }

    private static Frame[] ordered() {
        Integer[] order = BracketOrder.order(shuffled);
        Frame[] frames = new Frame[order.length];
        for (int i = 0; i < order.length; i++) {
            frames[i] = shuffled[order[i]];
        }
        return frames;
    }

    private static int maxDifference(byte[] a, byte[] b) {
        assertEquals(a.length, b.length);
        int worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs((a[i] & 0xFF) - (b[i] & 0xFF)));
        }
        return worst;
    }

    @Test
    void contractOfTheShippedArtifactParses() throws Exception {
        Contract contract = Contract.parse(read("contract.json"));
        assertEquals("lut-distill", contract.family);
        assertEquals("litert", contract.backend);
        assertEquals(meta.getInt("grid"), contract.lutGrid());
        assertEquals(meta.getInt("thumbnail_size"), contract.thumbnailSize());
        assertEquals("display-srgb8", contract.outputKind);
    }

    @Test
    void editedContractsAreOneClearError() throws Exception {
        String[][] edits = {
            {"remove", "graphs"}, {"remove", "sha256"}, {"set", "sha256", "\"abc\""}, {"set", "unknown", "1"},
            {"set", "format_version", "1"}, {"set", "output_kind", "\"hdr\""}, {"set", "n_exposures", "\"3\""},
            {"set", "inputs", "[]"}, {"set", "backend", "\"tensorrt\""},
        };
        for (String[] edit : edits) {
            JSONObject data = new JSONObject(read("contract.json"));
            if (edit[0].equals("remove")) {
                data.remove(edit[1]);
            } else {
                data.put(edit[1], new JSONObject("{\"v\": " + edit[2] + "}").get("v"));
            }
            String text = data.toString();
            ContractException error = assertThrows(ContractException.class, () -> Contract.parse(text));
            assertTrue(!error.getMessage().contains("\n"), error.getMessage());
        }
        JSONObject data = new JSONObject(read("contract.json"));
        data.getJSONObject("postprocessing").put("grid_size", 9);
        Contract edited = Contract.parse(data.toString());
        assertThrows(ContractException.class, edited::lutGrid);
    }

    @Test
    void orderIsPythonsOrder() throws Exception {
        Integer[] order = BracketOrder.order(shuffled);
        for (int i = 0; i < order.length; i++) {
            assertEquals(meta.getJSONArray("order").getInt(i), order[i].intValue());
        }
    }

    @Test
    void thumbnailsWithinOneGreyLevel() throws Exception {
        Frame[] frames = ordered();
        int size = meta.getInt("thumbnail_size");
        byte[] expected = Files.readAllBytes(golden.resolve("thumbnails.rgb"));
        int plane = size * size * 3;
        for (int k = 0; k < frames.length; k++) {
            byte[] mine = Thumbnails.thumbnail(frames[k], size);
            byte[] theirs = java.util.Arrays.copyOfRange(expected, k * plane, (k + 1) * plane);
            assertTrue(maxDifference(mine, theirs) <= 1, "frame " + k + ": " + maxDifference(mine, theirs));
        }
        Frame large = new Frame(meta.getJSONArray("large").getInt(0), meta.getJSONArray("large").getInt(1),
            Files.readAllBytes(golden.resolve("large.rgb")));
        byte[] mine = Thumbnails.thumbnail(large, size);
        byte[] theirs = Files.readAllBytes(golden.resolve("large_thumbnail.rgb"));
        assertTrue(maxDifference(mine, theirs) <= 1, "large frame: " + maxDifference(mine, theirs));
    }

    @Test
    void fusedImageWithinOneGreyLevelOfPython() throws Exception {
        Frame[] frames = ordered();
        int grid = meta.getInt("grid");
        byte[] fused = LutFusion.fuse(frames, floats("weights.f32"), floats("lut.f32"), grid);
        byte[] reference = Files.readAllBytes(golden.resolve("fused_reference.rgb"));
        byte[] runtime = Files.readAllBytes(golden.resolve("fused_runtime.rgb"));
        assertTrue(maxDifference(fused, reference) <= 1, "vs reference: " + maxDifference(fused, reference));
        assertTrue(maxDifference(fused, runtime) <= 1, "vs runtime: " + maxDifference(fused, runtime));
    }

    @Test
    void fusedWithWeightMapsWithinOneGreyLevelOfPython() throws Exception {
        Frame[] frames = ordered();
        int grid = meta.getInt("grid");
        int mapHeight = meta.getJSONArray("maps").getInt(1);
        int mapWidth = meta.getJSONArray("maps").getInt(2);
        byte[] fused = LutFusion.fuse(frames, floats("weight_maps.f32"), mapHeight, mapWidth, floats("lut.f32"), grid);
        byte[] reference = Files.readAllBytes(golden.resolve("fused_maps_reference.rgb"));
        assertTrue(maxDifference(fused, reference) <= 1, "vs reference: " + maxDifference(fused, reference));
        byte[] global = Files.readAllBytes(golden.resolve("fused_reference.rgb"));
        assertTrue(maxDifference(fused, global) > 8, "the maps change the picture");
    }

    @Test
    void adaptiveContractsNameTheirMaps() throws Exception {
        JSONObject data = new JSONObject(read("contract.json"));
        data.put("family", Contract.ADAPTIVE_FAMILY);
        data.getJSONArray("outputs").getJSONObject(0).put("shape", new org.json.JSONArray("[1, 3, 16, 16]"));
        JSONObject withoutRule = new JSONObject(data.toString());
        assertThrows(ContractException.class, Contract.parse(withoutRule.toString())::weightMapSize);
        data.getJSONObject("postprocessing").put("weight_maps", "bilinear, half-pixel centres, clamp-to-edge");
        Contract adaptive = Contract.parse(data.toString());
        assertEquals(16, adaptive.weightMapSize()[0]);
        assertEquals(meta.getInt("grid"), adaptive.lutGrid());
        data.getJSONArray("outputs").getJSONObject(0).put("shape", new org.json.JSONArray("[1, 3]"));
        assertThrows(ContractException.class, Contract.parse(data.toString())::lutGrid);
    }

    @Test
    void benchmarkReportInTheProfileSchema() throws Exception {
        double[] runs = {12.0, 10.0, 11.0, 30.0, 9.0};
        JSONObject summary = ProfileReport.summary(runs);
        assertEquals(11.0, summary.getDouble("median_ms"), 1e-9);
        assertEquals(22.8, summary.getDouble("p90_ms"), 1e-9);  // numpy.percentile(runs, 90)
        java.util.Map<String, double[]> stages = new java.util.LinkedHashMap<String, double[]>();
        stages.put("decode", new double[] {5, 6, 5});
        stages.put("thumbnails", new double[] {1, 1, 2});
        stages.put("predictor", new double[] {20, 21, 19});
        stages.put("apply", new double[] {3, 3, 4});
        stages.put("encode", new double[] {7, 8, 7});
        Contract contract = Contract.parse(read("contract.json"));
        JSONObject report = ProfileReport.build(contract, "lut-student-int8-g33.tflite", 657008, "grid 33",
            stages, "android-emulator", "JVM test run, not a phone", 600, 400, 2, 0, 720000);
        assertEquals(37.0, report.getJSONObject("end_to_end").getDouble("median_ms"), 1e-9);  // 36, 39, 37
        Files.write(golden.resolve("android_report.json"), report.toString(1).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void lutTextureInHalfFloats() throws Exception {
        assertEquals((short) 0x3C00, LutTexture.halfBits(1.0f));
        assertEquals((short) 0x0000, LutTexture.halfBits(0.0f));
        assertEquals((short) 0xC000, LutTexture.halfBits(-2.0f));
        assertEquals((short) 0x7BFF, LutTexture.halfBits(65504f));
        assertEquals((short) 0x7C00, LutTexture.halfBits(1e6f));
        assertEquals((short) 0x0001, LutTexture.halfBits(5.9604645e-8f));
        float[] lut = floats("lut.f32");
        short[] half = LutTexture.toHalf(lut);
        for (int i = 0; i < lut.length; i++) {
            float back = LutTexture.halfToFloat(half[i]);
            assertTrue(Math.abs(back - lut[i]) <= Math.max(Math.abs(lut[i]) * 0x1p-11f, 0x1p-24f), "texel " + i);
        }
        assertArrayEquals(new short[] {0x3C00}, LutTexture.toHalf(new float[] {1.0f}));
    }
}
