"""Capture and fuse on a device (``rpi/capture_and_fuse.py``): torch-free, like :mod:`edgemef.runtime`.

- :mod:`~edgemef.capture.planning`: EV spread -> exposure times inside the sensor's limits (pure functions);
- :mod:`~edgemef.capture.camera`: the camera protocol, metadata acceptance with bounded retries, brackets;
- :mod:`~edgemef.capture.picamera2_camera`, :mod:`~edgemef.capture.webcam_camera`,
  :mod:`~edgemef.capture.simulated_camera`: the cameras; :mod:`~edgemef.capture.files_source`: replay;
- :mod:`~edgemef.capture.align`: AlignMTB / ECC alignment of hand-held brackets;
- :mod:`~edgemef.capture.latency`: stage timings, rolling statistics, the PASS/FAIL verdict;
- :mod:`~edgemef.capture.report`: the timings as an ``edgemef profile`` report;
- :mod:`~edgemef.capture.cli`: the command line.
"""
