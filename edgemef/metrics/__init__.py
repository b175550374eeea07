"""Image quality metrics for fusion and HDR results.

* Full-reference fidelity (:mod:`edgemef.metrics.fidelity`): :func:`psnr`, :func:`ssim`
  (and its factors, :func:`ssim_terms`) and the HDR metrics :func:`psnr_mu`, :func:`ssim_mu`, :func:`psnr_l`
  and :func:`ssim_l` (HDR-VDP-2 needs MATLAB and is not reproduced).
* No-reference MEF quality (:mod:`edgemef.metrics.mef_ssim`): :func:`mef_ssim`, the index of
  Ma, Zeng & Wang (IEEE TIP 2015), with per-scale details from :func:`mef_ssim_details`.

Images are numpy arrays, ``uint8`` RGB ``H x W x 3`` unless a function says otherwise.
"""

from edgemef.metrics.fidelity import (
    SsimTerms,
    default_data_range,
    mu_law,
    psnr,
    psnr_l,
    psnr_mu,
    ssim,
    ssim_l,
    ssim_mu,
    ssim_terms,
)
from edgemef.metrics.mef_ssim import MEF_SSIM_SCALE_WEIGHTS, MefSsimResult, mef_ssim, mef_ssim_details

__all__ = [
    "MEF_SSIM_SCALE_WEIGHTS",
    "MefSsimResult",
    "SsimTerms",
    "default_data_range",
    "mef_ssim",
    "mef_ssim_details",
    "mu_law",
    "psnr",
    "psnr_l",
    "psnr_mu",
    "ssim",
    "ssim_l",
    "ssim_mu",
    "ssim_terms",
]
