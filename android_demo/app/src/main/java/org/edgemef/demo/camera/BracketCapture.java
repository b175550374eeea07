package org.edgemef.demo.camera;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import android.content.Context;
import android.graphics.Bitmap;
import android.graphics.BitmapFactory;
import android.graphics.ImageFormat;
import android.hardware.camera2.CameraAccessException;
import android.hardware.camera2.CameraCaptureSession;
import android.hardware.camera2.CameraCharacteristics;
import android.hardware.camera2.CameraDevice;
import android.hardware.camera2.CameraManager;
import android.hardware.camera2.CaptureRequest;
import android.hardware.camera2.CaptureResult;
import android.hardware.camera2.TotalCaptureResult;
import android.hardware.camera2.params.StreamConfigurationMap;
import android.media.Image;
import android.media.ImageReader;
import android.os.Handler;
import android.os.HandlerThread;
import android.util.Range;
import android.util.Size;
import android.view.Surface;

import org.edgemef.core.Frame;
import org.edgemef.demo.BracketFiles;

/**
 * A bracket from the back camera with camera2 and manual exposure: auto-exposure meters a preview stream
 * first; then one burst of still captures with AE off at the metered exposure times 2^ev (ISO fixed at the
 * metered value), e.g. -2, 0, +2 EV. A frame is kept only if its CaptureResult reports the requested
 * exposure time within {@link #TOLERANCE} (a camera that clamps or ignores the request is found out, as the
 * Pi runner does with its frames' metadata); otherwise the whole bracket fails with the reason.
 *
 * Needs the CAMERA permission and a camera with the MANUAL_SENSOR capability.
 */
public final class BracketCapture {
    /** Relative difference allowed between the requested and the reported exposure time. */
    public static final double TOLERANCE = 0.1;
    private static final long METER_TIMEOUT_MS = 3000;

    /** Where a capture's result goes (called on the capture thread). */
    public interface Listener {
        void onBracket(Frame[] frames);

        void onError(String message);
    }

    private final CameraManager manager;
    private final HandlerThread thread = new HandlerThread("edgemef-camera");
    private final Handler handler;

    public BracketCapture(Context context) {
        manager = (CameraManager) context.getSystemService(Context.CAMERA_SERVICE);
        thread.start();
        handler = new Handler(thread.getLooper());
    }

    /** The back camera with manual sensor control, or null. */
    public String manualBackCamera() throws CameraAccessException {
        for (String id : manager.getCameraIdList()) {
            CameraCharacteristics characteristics = manager.getCameraCharacteristics(id);
            Integer facing = characteristics.get(CameraCharacteristics.LENS_FACING);
            int[] capabilities = characteristics.get(CameraCharacteristics.REQUEST_AVAILABLE_CAPABILITIES);
            boolean manual = false;
            for (int capability : capabilities) {
                manual |= capability == CameraCharacteristics.REQUEST_AVAILABLE_CAPABILITIES_MANUAL_SENSOR;
            }
            if (facing != null && facing == CameraCharacteristics.LENS_FACING_BACK && manual) {
                return id;
            }
        }
        return null;
    }

    /** Capture one bracket at {@code evs} stops around the metered exposure (darkest first). */
    public void capture(final double[] evs, final Listener listener) {
        final String id;
        final CameraCharacteristics characteristics;
        try {
            id = manualBackCamera();
            if (id == null) {
                listener.onError("no back camera with manual exposure (MANUAL_SENSOR) on this device: pick a "
                    + "bracket from the gallery instead");
                return;
            }
            characteristics = manager.getCameraCharacteristics(id);
        } catch (CameraAccessException e) {
            listener.onError("camera: " + e.getMessage());
            return;
        }
        StreamConfigurationMap map = characteristics.get(CameraCharacteristics.SCALER_STREAM_CONFIGURATION_MAP);
        final Size still = largest(map.getOutputSizes(ImageFormat.JPEG));
        final ImageReader stills = ImageReader.newInstance(still.getWidth(), still.getHeight(), ImageFormat.JPEG,
            evs.length + 1);
        final ImageReader meter = ImageReader.newInstance(640, 480, ImageFormat.YUV_420_888, 4);
        meter.setOnImageAvailableListener(new ImageReader.OnImageAvailableListener() {
            @Override
            public void onImageAvailable(ImageReader reader) {
                Image image = reader.acquireLatestImage();
                if (image != null) {
                    image.close();
                }
            }
        }, handler);
        try {
            manager.openCamera(id, new CameraDevice.StateCallback() {
                @Override
                public void onOpened(CameraDevice camera) {
                    new Session(camera, characteristics, stills, meter, evs, listener).start();
                }

                @Override
                public void onDisconnected(CameraDevice camera) {
                    camera.close();
                    listener.onError("the camera was disconnected");
                }

                @Override
                public void onError(CameraDevice camera, int error) {
                    camera.close();
                    listener.onError("the camera failed to open (error " + error + ")");
                }
            }, handler);
        } catch (CameraAccessException e) {
            listener.onError("camera: " + e.getMessage());
        } catch (SecurityException e) {
            listener.onError("the app needs the camera permission");
        }
    }

    private static Size largest(Size[] sizes) {
        Size best = sizes[0];
        for (Size size : sizes) {
            if ((long) size.getWidth() * size.getHeight() > (long) best.getWidth() * best.getHeight()) {
                best = size;
            }
        }
        return best;
    }

    /** One open camera: meter, then the manual burst, then close. */
    private final class Session {
        private final CameraDevice camera;
        private final CameraCharacteristics characteristics;
        private final ImageReader stills;
        private final ImageReader meter;
        private final double[] evs;
        private final Listener listener;
        private final Map<Long, TotalCaptureResult> results = new HashMap<Long, TotalCaptureResult>();
        private final Map<Long, byte[]> jpegs = new HashMap<Long, byte[]>();
        private long[] requested;
        private CameraCaptureSession session;
        private TotalCaptureResult metered;
        private boolean done;

        Session(CameraDevice camera, CameraCharacteristics characteristics, ImageReader stills, ImageReader meter,
                double[] evs, Listener listener) {
            this.camera = camera;
            this.characteristics = characteristics;
            this.stills = stills;
            this.meter = meter;
            this.evs = evs;
            this.listener = listener;
        }

        void start() {
            List<Surface> outputs = Arrays.asList(stills.getSurface(), meter.getSurface());
            try {
                camera.createCaptureSession(outputs, new CameraCaptureSession.StateCallback() {
                    @Override
                    public void onConfigured(CameraCaptureSession configured) {
                        session = configured;
                        meter();
                    }

                    @Override
                    public void onConfigureFailed(CameraCaptureSession configured) {
                        fail("the camera could not configure a capture session");
                    }
                }, handler);
            } catch (CameraAccessException e) {
                fail("camera: " + e.getMessage());
            }
        }

        private void meter() {
            try {
                CaptureRequest.Builder preview = camera.createCaptureRequest(CameraDevice.TEMPLATE_PREVIEW);
                preview.addTarget(meter.getSurface());
                preview.set(CaptureRequest.CONTROL_AE_MODE, CaptureRequest.CONTROL_AE_MODE_ON);
                final long deadline = System.currentTimeMillis() + METER_TIMEOUT_MS;
                session.setRepeatingRequest(preview.build(), new CameraCaptureSession.CaptureCallback() {
                    @Override
                    public void onCaptureCompleted(CameraCaptureSession s, CaptureRequest request,
                                                   TotalCaptureResult result) {
                        if (metered != null) {
                            return;
                        }
                        Integer state = result.get(CaptureResult.CONTROL_AE_STATE);
                        boolean converged = state != null && (state == CaptureResult.CONTROL_AE_STATE_CONVERGED
                            || state == CaptureResult.CONTROL_AE_STATE_FLASH_REQUIRED);
                        if (converged || System.currentTimeMillis() > deadline) {
                            metered = result;
                            burst();
                        }
                    }
                }, handler);
            } catch (CameraAccessException e) {
                fail("camera: " + e.getMessage());
            }
        }

        private void burst() {
            Long exposure = metered.get(CaptureResult.SENSOR_EXPOSURE_TIME);
            Integer iso = metered.get(CaptureResult.SENSOR_SENSITIVITY);
            if (exposure == null || iso == null) {
                fail("the camera reports no metered exposure");
                return;
            }
            Range<Long> range = characteristics.get(CameraCharacteristics.SENSOR_INFO_EXPOSURE_TIME_RANGE);
            stills.setOnImageAvailableListener(new ImageReader.OnImageAvailableListener() {
                @Override
                public void onImageAvailable(ImageReader reader) {
                    Image image = reader.acquireNextImage();
                    if (image == null) {
                        return;
                    }
                    ByteBuffer data = image.getPlanes()[0].getBuffer();
                    byte[] bytes = new byte[data.remaining()];
                    data.get(bytes);
                    jpegs.put(image.getTimestamp(), bytes);
                    image.close();
                    collect();
                }
            }, handler);
            try {
                session.stopRepeating();
                List<CaptureRequest> requests = new ArrayList<CaptureRequest>();
                requested = new long[evs.length];
                for (int i = 0; i < evs.length; i++) {
                    requested[i] = range.clamp((long) (exposure * Math.pow(2.0, evs[i])));
                    CaptureRequest.Builder still = camera.createCaptureRequest(CameraDevice.TEMPLATE_STILL_CAPTURE);
                    still.addTarget(stills.getSurface());
                    still.set(CaptureRequest.CONTROL_AE_MODE, CaptureRequest.CONTROL_AE_MODE_OFF);
                    still.set(CaptureRequest.SENSOR_EXPOSURE_TIME, requested[i]);
                    still.set(CaptureRequest.SENSOR_SENSITIVITY, iso);
                    still.set(CaptureRequest.JPEG_QUALITY, (byte) 95);
                    still.setTag(Integer.valueOf(i));
                    requests.add(still.build());
                }
                session.captureBurst(requests, new CameraCaptureSession.CaptureCallback() {
                    @Override
                    public void onCaptureCompleted(CameraCaptureSession s, CaptureRequest request,
                                                   TotalCaptureResult result) {
                        Long timestamp = result.get(CaptureResult.SENSOR_TIMESTAMP);
                        if (timestamp != null) {
                            results.put(timestamp, result);
                            collect();
                        }
                    }
                }, handler);
            } catch (CameraAccessException e) {
                fail("camera: " + e.getMessage());
            }
        }

        /** When every frame has its JPEG and its result: check the exposures and hand the bracket over. */
        private void collect() {
            if (done || results.size() < evs.length || jpegs.size() < evs.length) {
                return;
            }
            Frame[] frames = new Frame[evs.length];
            for (Map.Entry<Long, TotalCaptureResult> entry : results.entrySet()) {
                TotalCaptureResult result = entry.getValue();
                int index = (Integer) result.getRequest().getTag();
                Long got = result.get(CaptureResult.SENSOR_EXPOSURE_TIME);
                Integer iso = result.get(CaptureResult.SENSOR_SENSITIVITY);
                if (got == null || Math.abs(got - requested[index]) > TOLERANCE * requested[index]) {
                    fail("frame " + (index + 1) + ": the camera exposed " + (got == null ? "?" : got / 1e6)
                        + " ms instead of the requested " + requested[index] / 1e6 + " ms");
                    return;
                }
                byte[] jpeg = jpegs.get(entry.getKey());
                if (jpeg == null) {
                    fail("frame " + (index + 1) + " has no image");
                    return;
                }
                Bitmap bitmap = BitmapFactory.decodeByteArray(jpeg, 0, jpeg.length);
                frames[index] = new Frame(bitmap.getWidth(), bitmap.getHeight(), BracketFiles.rgb(bitmap),
                    got / 1e9, iso == null ? null : Double.valueOf(iso), null);
            }
            done = true;
            close();
            listener.onBracket(frames);
        }

        private void fail(String message) {
            if (!done) {
                done = true;
                close();
                listener.onError(message);
            }
        }

        private void close() {
            if (session != null) {
                session.close();
            }
            camera.close();
            stills.close();
            meter.close();
        }
    }

    /** Stop the capture thread (the activity is going away). */
    public void release() {
        thread.quitSafely();
    }
}
