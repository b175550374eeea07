package org.edgemef.demo;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import android.content.Context;

import org.edgemef.core.Contract;
import org.edgemef.core.ContractException;

/**
 * Artifacts and their contracts: the ones bundled in the APK's assets (the package's shipped int8 LiteRT
 * artifacts, edgemef/artifacts; the UI uses the default model's, lut-adaptive) or any pushed to the device. A contract is the artifact's name with .json, and
 * the model file must have the contract's sha256 (a wrong or truncated model file is refused, not run).
 */
public final class Artifacts {
    /** Bundled artifacts by exposure count: index 2 and 3. */
    private static final String[] BUNDLED = {null, null, "lut-adaptive-2exp-int8-g33.tflite",
        "lut-adaptive-int8-g33.tflite"};

    private Artifacts() {
    }

    /** The bundled artifact for brackets of {@code exposures} frames, copied out of the APK once. */
    public static File bundled(Context context, int exposures) throws IOException {
        if (exposures < 2 || exposures >= BUNDLED.length || BUNDLED[exposures] == null) {
            throw new IOException("the app bundles artifacts for 2 and 3 exposures, not " + exposures);
        }
        File model = new File(context.getFilesDir(), BUNDLED[exposures]);
        copyAsset(context, BUNDLED[exposures], model);
        copyAsset(context, contractName(BUNDLED[exposures]), contractFile(model));
        return model;
    }

    private static void copyAsset(Context context, String name, File to) throws IOException {
        File partial = new File(to.getPath() + ".partial");
        Text.copy(context.getAssets().open(name), new FileOutputStream(partial));
        if (!partial.renameTo(to)) {
            throw new IOException("could not write " + to);
        }
    }

    static String contractName(String artifactName) {
        int dot = artifactName.lastIndexOf('.');
        return (dot > 0 ? artifactName.substring(0, dot) : artifactName) + ".json";
    }

    /** The contract file beside an artifact. */
    public static File contractFile(File artifact) {
        return new File(artifact.getParentFile(), contractName(artifact.getName()));
    }

    /** Read and validate the artifact's contract, and check the model file's size and sha256 against it. */
    public static Contract contract(File artifact) throws IOException, ContractException {
        File json = contractFile(artifact);
        if (!json.isFile()) {
            throw new ContractException("no contract beside " + artifact.getName() + " (expected " + json.getName()
                + ")");
        }
        Contract contract = Contract.parse(Text.read(json));
        if (!contract.artifact.equals(artifact.getName())) {
            throw new ContractException(json.getName() + " describes " + contract.artifact + ", not "
                + artifact.getName());
        }
        String actual = sha256(artifact);
        if (!actual.equals(contract.sha256)) {
            throw new ContractException(artifact.getName() + " is not the file its contract describes (sha256 "
                + actual.substring(0, 12) + "..., contract " + contract.sha256.substring(0, 12) + "...)");
        }
        return contract;
    }

    static String sha256(File file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException("no SHA-256 on this device", e);
        }
        InputStream in = new FileInputStream(file);
        try {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        } finally {
            in.close();
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : digest.digest()) {
            hex.append(String.format("%02x", b & 0xFF));
        }
        return hex.toString();
    }
}
