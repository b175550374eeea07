package org.edgemef.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * The contract beside every exported model (format version 2, docs/contract.md and
 * edgemef/runtime/contract.schema.json): parsed and validated as a whole, the way edgemef.runtime.contract
 * reads it, so an edited or foreign contract is one clear error before anything runs.
 */
public final class Contract {
    public static final String FORMAT = "edgemef-contract";
    public static final int FORMAT_VERSION = 2;
    private static final String[] REQUIRED = {
        "format", "format_version", "model", "family", "output_kind", "target", "backend", "precision",
        "artifact", "sha256", "size_bytes", "n_exposures", "inputs", "outputs", "graphs", "preprocessing",
        "postprocessing", "toolchain",
    };
    private static final String[] OPTIONAL = {"parity", "latency", "checks", "created"};
    private static final String[] OUTPUT_KINDS = {"display-srgb8", "scene-linear"};
    private static final String[] BACKENDS = {"executorch", "coreml", "litert", "onnxruntime"};
    private static final String[] DTYPES = {"float32", "float16", "int8", "uint8", "int32", "int64"};

    /** One input or output tensor of a model file. */
    public static final class Tensor {
        public final String name;
        public final int[] shape;
        public final String dtype;
        public final String layout;
        public final String runtimeName;
        public final int index;

        Tensor(String name, int[] shape, String dtype, String layout, String runtimeName, int index) {
            this.name = name;
            this.shape = shape;
            this.dtype = dtype;
            this.layout = layout;
            this.runtimeName = runtimeName;
            this.index = index;
        }
    }

    public final String model;
    public final String family;
    public final String outputKind;
    public final String backend;
    public final String precision;
    public final String artifact;
    public final String sha256;
    public final int nExposures;
    public final List<Tensor> inputs;
    public final List<Tensor> outputs;
    /** Further graphs of a multi-graph model: name -> their artifact file. */
    public final Map<String, String> graphs;
    public final JSONObject preprocessing;
    public final JSONObject postprocessing;

    private Contract(JSONObject data) throws JSONException, ContractException {
        model = text(data, "model");
        family = text(data, "family");
        outputKind = oneOf(data, "output_kind", OUTPUT_KINDS);
        text(data, "target");
        backend = oneOf(data, "backend", BACKENDS);
        precision = text(data, "precision");
        artifact = text(data, "artifact");
        sha256 = text(data, "sha256");
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new ContractException("sha256 must be 64 lowercase hex digits");
        }
        nExposures = integer(data, "n_exposures", 2);
        integer(data, "size_bytes", 0);
        inputs = tensors(data, "inputs");
        outputs = tensors(data, "outputs");
        JSONObject graphObject = object(data, "graphs");
        Map<String, String> found = new LinkedHashMap<String, String>();
        Iterator<?> names = graphObject.keys();
        while (names.hasNext()) {
            String name = (String) names.next();
            JSONObject graph = graphObject.getJSONObject(name);
            found.put(name, text(graph, "artifact"));
            tensors(graph, "inputs");
            tensors(graph, "outputs");
        }
        graphs = Collections.unmodifiableMap(found);
        preprocessing = object(data, "preprocessing");
        postprocessing = object(data, "postprocessing");
        object(data, "toolchain");
    }

    /** Parse and validate a contract; any problem is one {@link ContractException} naming it. */
    public static Contract parse(String json) throws ContractException {
        JSONObject data;
        try {
            data = new JSONObject(json);
        } catch (JSONException e) {
            throw new ContractException("not a JSON object: " + e.getMessage());
        }
        if (!FORMAT.equals(data.opt("format"))) {
            throw new ContractException("not an edgemef contract (format " + data.opt("format") + ")");
        }
        if (!(data.opt("format_version") instanceof Integer) || data.optInt("format_version") != FORMAT_VERSION) {
            throw new ContractException("contract format version " + data.opt("format_version")
                + ", this app reads version " + FORMAT_VERSION);
        }
        Set<String> known = new HashSet<String>();
        Collections.addAll(known, REQUIRED);
        Collections.addAll(known, OPTIONAL);
        Iterator<?> keys = data.keys();
        while (keys.hasNext()) {
            String key = (String) keys.next();
            if (!known.contains(key)) {
                throw new ContractException("malformed contract (unknown field " + key + ")");
            }
        }
        for (String key : REQUIRED) {
            if (!data.has(key) || data.isNull(key)) {
                throw new ContractException("malformed contract (" + key + " is missing)");
            }
        }
        try {
            return new Contract(data);
        } catch (JSONException e) {
            throw new ContractException("malformed contract (" + e.getMessage() + ")");
        }
    }

    /** The output or input called {@code name}. */
    public Tensor tensor(String name) throws ContractException {
        for (Tensor t : outputs) {
            if (t.name.equals(name)) {
                return t;
            }
        }
        for (Tensor t : inputs) {
            if (t.name.equals(name)) {
                return t;
            }
        }
        throw new ContractException("the contract has no tensor named " + name);
    }

    /** The family of the adaptive LUT model, whose weights are weight maps. */
    public static final String ADAPTIVE_FAMILY = "lut-adaptive";
    /** The longest side of a weight map the appliers take (edgemef.lut.MAX_MAP_SIDE). */
    public static final int MAX_MAP_SIDE = 256;

    /**
     * LUT-distill and the adaptive model: the weights' map size {rows, columns}, {1, 1} for one weight per
     * exposure (weights (1, N)); the adaptive model's maps (1, N, Gh, Gw) come with their sampling rule
     * (postprocessing.weight_maps).
     */
    public int[] weightMapSize() throws ContractException {
        int[] weights = tensor("weights").shape;
        if (!ADAPTIVE_FAMILY.equals(family)) {
            if (weights.length != 2 || weights[0] != 1 || weights[1] != nExposures) {
                throw new ContractException("weights shape is not (1, " + nExposures + ")");
            }
            return new int[] {1, 1};
        }
        if (weights.length != 4 || weights[0] != 1 || weights[1] != nExposures || weights[2] > MAX_MAP_SIDE
            || weights[3] > MAX_MAP_SIDE) {
            throw new ContractException("weights shape is not (1, " + nExposures + ", Gh, Gw) weight maps of at most "
                + MAX_MAP_SIDE + " cells a side");
        }
        if (!postprocessing.has("weight_maps")) {
            throw new ContractException("postprocessing.weight_maps (how the weight maps are sampled) is missing");
        }
        return new int[] {weights[2], weights[3]};
    }

    /** LUT-distill: the LUT's side, from the "lut" output's shape (1, S, S, S, 3), checked whole. */
    public int lutGrid() throws ContractException {
        int[] lut = tensor("lut").shape;
        if (lut.length != 5 || lut[0] != 1 || lut[4] != 3 || lut[1] != lut[2] || lut[2] != lut[3] || lut[1] < 2) {
            throw new ContractException("lut shape is not (1, S, S, S, 3)");
        }
        weightMapSize();
        if (postprocessing.optInt("grid_size", -1) != lut[1]) {
            throw new ContractException("postprocessing.grid_size differs from the LUT's side " + lut[1]);
        }
        return lut[1];
    }

    /** LUT-distill: the thumbnails' side, checked against the input's shape (1, 3N, T, T). */
    public int thumbnailSize() throws ContractException {
        int size = preprocessing.optInt("thumbnail_size", -1);
        int[] shape = tensor("thumbnails").shape;
        if (size < 1 || shape.length != 4 || shape[1] != 3 * nExposures || shape[2] != size || shape[3] != size) {
            throw new ContractException("thumbnails are not (1, " + 3 * nExposures + ", T, T) with T = "
                + "preprocessing.thumbnail_size");
        }
        return size;
    }

    private static String text(JSONObject data, String key) throws ContractException {
        Object value = data.opt(key);
        if (!(value instanceof String) || ((String) value).isEmpty()) {
            throw new ContractException("malformed contract (" + key + " must be a non-empty string)");
        }
        return (String) value;
    }

    private static String oneOf(JSONObject data, String key, String[] allowed) throws ContractException {
        String value = text(data, key);
        for (String a : allowed) {
            if (a.equals(value)) {
                return value;
            }
        }
        throw new ContractException("malformed contract (" + key + " " + value + " is not known)");
    }

    private static int integer(JSONObject data, String key, int minimum) throws ContractException {
        Object value = data.opt(key);
        if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < minimum) {
            throw new ContractException("malformed contract (" + key + " must be an integer >= " + minimum + ")");
        }
        return ((Number) value).intValue();
    }

    private static JSONObject object(JSONObject data, String key) throws ContractException {
        Object value = data.opt(key);
        if (!(value instanceof JSONObject)) {
            throw new ContractException("malformed contract (" + key + " must be an object)");
        }
        return (JSONObject) value;
    }

    private static List<Tensor> tensors(JSONObject data, String key) throws ContractException, JSONException {
        Object value = data.opt(key);
        if (!(value instanceof JSONArray) || ((JSONArray) value).length() == 0) {
            throw new ContractException("malformed contract (" + key + " must be a non-empty list of tensors)");
        }
        JSONArray array = (JSONArray) value;
        List<Tensor> result = new ArrayList<Tensor>();
        Set<String> names = new HashSet<String>();
        for (int i = 0; i < array.length(); i++) {
            JSONObject t = array.getJSONObject(i);
            JSONArray shapeArray = t.optJSONArray("shape");
            if (shapeArray == null || shapeArray.length() == 0) {
                throw new ContractException("malformed contract (a tensor of " + key + " has no shape)");
            }
            int[] shape = new int[shapeArray.length()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = shapeArray.getInt(d);
                if (shape[d] < 1) {
                    throw new ContractException("malformed contract (a tensor of " + key + " has a bad shape)");
                }
            }
            String name = text(t, "name");
            if (!names.add(name)) {
                throw new ContractException("malformed contract (" + key + ": tensor names repeat)");
            }
            result.add(new Tensor(name, shape, oneOf(t, "dtype", DTYPES), text(t, "layout"),
                text(t, "runtime_name"), integer(t, "index", 0)));
        }
        return Collections.unmodifiableList(result);
    }
}
