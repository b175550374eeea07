package org.edgemef.demo;

import java.io.File;
import java.util.Locale;

import android.Manifest;
import android.app.Activity;
import android.content.ClipData;
import android.content.Intent;
import android.content.pm.PackageManager;
import android.graphics.Bitmap;
import android.net.Uri;
import android.os.Bundle;
import android.os.Handler;
import android.os.HandlerThread;
import android.provider.MediaStore;
import android.view.View;
import android.widget.Button;
import android.widget.ImageView;
import android.widget.LinearLayout;
import android.widget.TextView;

import org.edgemef.core.Contract;
import org.edgemef.core.Frame;
import org.edgemef.demo.camera.BracketCapture;
import org.edgemef.demo.gl.GlLutRenderer;
import org.edgemef.demo.predictor.Prediction;
import org.edgemef.demo.predictor.Predictors;

/**
 * The demo: capture a bracket with the camera (manual exposure, -2/0/+2 EV) or pick 2-4 photos of one from
 * the gallery; the app orders them darkest first, fuses them with the bundled adaptive LUT model (LiteRT int8
 * predictor, GL apply with its weight maps), shows inputs, the fused picture and the time of each stage, and saves the result to
 * the gallery.
 */
public final class MainActivity extends Activity {
    private static final int PICK = 1;
    private static final int CAMERA_PERMISSION = 2;
    private static final double[] EVS = {-2.0, 0.0, 2.0};

    private final HandlerThread worker = new HandlerThread("edgemef-fusion");
    private Handler background;
    private FusionPipeline[] pipelines = new FusionPipeline[4]; // by exposure count; used on the worker only
    private BracketCapture capture;
    private TextView status;
    private TextView timings;
    private LinearLayout inputs;
    private ImageView fused;
    private Button save;
    private Bitmap result;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        setContentView(R.layout.activity_main);
        status = (TextView) findViewById(R.id.status);
        timings = (TextView) findViewById(R.id.timings);
        inputs = (LinearLayout) findViewById(R.id.inputs);
        fused = (ImageView) findViewById(R.id.fused);
        save = (Button) findViewById(R.id.save);
        worker.start();
        background = new Handler(worker.getLooper());
        capture = new BracketCapture(this);
        findViewById(R.id.pick).setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View view) {
                Intent pick = new Intent(Intent.ACTION_GET_CONTENT);
                pick.setType("image/*");
                pick.putExtra(Intent.EXTRA_ALLOW_MULTIPLE, true);
                startActivityForResult(Intent.createChooser(pick, getString(R.string.pick)), PICK);
            }
        });
        findViewById(R.id.capture).setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View view) {
                if (checkSelfPermission(Manifest.permission.CAMERA) != PackageManager.PERMISSION_GRANTED) {
                    requestPermissions(new String[] {Manifest.permission.CAMERA}, CAMERA_PERMISSION);
                } else {
                    captureBracket();
                }
            }
        });
        save.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View view) {
                if (result != null) {
                    String where = MediaStore.Images.Media.insertImage(getContentResolver(), result,
                        "edgemef fused", "fused by edgemef (LUT-distill)");
                    show(where != null ? getString(R.string.saved) : getString(R.string.not_saved));
                }
            }
        });
        save.setEnabled(false);
    }

    @Override
    public void onRequestPermissionsResult(int code, String[] permissions, int[] grants) {
        if (code == CAMERA_PERMISSION) {
            if (grants.length > 0 && grants[0] == PackageManager.PERMISSION_GRANTED) {
                captureBracket();
            } else {
                show(getString(R.string.no_camera_permission));
            }
        }
    }

    private void captureBracket() {
        show(getString(R.string.capturing));
        capture.capture(EVS, new BracketCapture.Listener() {
            @Override
            public void onBracket(final Frame[] frames) {
                background.post(new Runnable() {
                    @Override
                    public void run() {
                        fuse(frames);
                    }
                });
            }

            @Override
            public void onError(String message) {
                show(message);
            }
        });
    }

    @Override
    protected void onActivityResult(int code, int resultCode, final Intent data) {
        if (code != PICK || resultCode != RESULT_OK || data == null) {
            return;
        }
        show(getString(R.string.decoding));
        background.post(new Runnable() {
            @Override
            public void run() {
                try {
                    Uri[] uris = uris(data);
                    if (uris.length < 2 || uris.length > 3) {
                        show(String.format(Locale.ROOT, getString(R.string.wrong_count), uris.length));
                        return;
                    }
                    Frame[] frames = new Frame[uris.length];
                    for (int k = 0; k < uris.length; k++) {
                        frames[k] = BracketFiles.decode(getContentResolver(), uris[k],
                            new File(getCacheDir(), "picked-" + k));
                    }
                    fuse(frames);
                } catch (Exception e) {
                    show(e.getMessage());
                }
            }
        });
    }

    private static Uri[] uris(Intent data) {
        ClipData clip = data.getClipData();
        if (clip == null) {
            return data.getData() == null ? new Uri[0] : new Uri[] {data.getData()};
        }
        Uri[] uris = new Uri[clip.getItemCount()];
        for (int i = 0; i < uris.length; i++) {
            uris[i] = clip.getItemAt(i).getUri();
        }
        return uris;
    }

    /** On the worker thread: order, fuse, show. */
    private void fuse(Frame[] frames) {
        try {
            final Frame[] ordered = BracketFiles.ordered(frames);
            FusionPipeline pipeline = pipeline(ordered.length);
            final FusionPipeline.Result fusion = pipeline.fuse(ordered);
            final Bitmap bitmap = BracketFiles.bitmap(fusion.rgb, fusion.width, fusion.height);
            final StringBuilder text = new StringBuilder();
            text.append(String.format(Locale.ROOT, "%dx%d, %d exposures, %s (%s)\n", fusion.width, fusion.height,
                ordered.length, pipeline.predictor().runtime(), pipeline.predictor().delegate()));
            double total = 0;
            for (int s = 0; s < FusionPipeline.STAGES.length; s++) {
                text.append(String.format(Locale.ROOT, "%s %.1f ms\n", FusionPipeline.STAGES[s], fusion.stageMs[s]));
                total += fusion.stageMs[s];
            }
            Prediction prediction = fusion.prediction;
            if (prediction.hasMaps()) {
                text.append(String.format(Locale.ROOT, "total %.1f ms; weight maps %dx%d", total,
                    prediction.mapHeight, prediction.mapWidth));
            } else {
                text.append(String.format(Locale.ROOT, "total %.1f ms; weights", total));
                for (float w : prediction.weights) {
                    text.append(String.format(Locale.ROOT, " %.3f", w));
                }
            }
            runOnUiThread(new Runnable() {
                @Override
                public void run() {
                    inputs.removeAllViews();
                    for (Frame frame : ordered) {
                        ImageView view = new ImageView(MainActivity.this);
                        view.setAdjustViewBounds(true);
                        view.setImageBitmap(Bitmap.createScaledBitmap(BracketFiles.bitmap(frame.rgb, frame.width,
                            frame.height), 320, 320 * frame.height / frame.width, true));
                        inputs.addView(view, new LinearLayout.LayoutParams(0,
                            LinearLayout.LayoutParams.WRAP_CONTENT, 1.0f));
                    }
                    result = bitmap;
                    fused.setImageBitmap(bitmap);
                    timings.setText(text.toString());
                    status.setText(R.string.fused);
                    save.setEnabled(true);
                }
            });
        } catch (Exception e) {
            show(e.getMessage());
        }
    }

    /** The pipeline for brackets of {@code exposures} frames, made on first use (worker thread). */
    private FusionPipeline pipeline(int exposures) throws Exception {
        if (exposures >= pipelines.length) {
            throw new IllegalArgumentException("the app fuses 2 or 3 exposures");
        }
        if (pipelines[exposures] == null) {
            File artifact = Artifacts.bundled(this, exposures);
            Contract contract = Artifacts.contract(artifact);
            GlLutRenderer renderer = new GlLutRenderer(Text.read(getAssets().open("fullscreen.vert")),
                Text.read(getAssets().open("fuse_lut.frag")));
            pipelines[exposures] = new FusionPipeline(contract, Predictors.open(contract, artifact,
                Runtime.getRuntime().availableProcessors()), renderer);
        }
        return pipelines[exposures];
    }

    private void show(final String message) {
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                status.setText(message);
            }
        });
    }

    @Override
    protected void onDestroy() {
        background.post(new Runnable() {
            @Override
            public void run() {
                for (FusionPipeline pipeline : pipelines) {
                    if (pipeline != null) {
                        pipeline.close();
                    }
                }
            }
        });
        worker.quitSafely();
        capture.release();
        super.onDestroy();
    }
}
