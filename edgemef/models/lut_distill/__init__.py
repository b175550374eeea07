"""LUT-distill: multi-exposure fusion via a distilled 3D LUT grid with editable mode (Su & Zheng).

The torch side: the teacher (basis LUTs + INN + WP), the student (IW + INN, any grid size at call time), their
losses, the exportable trilinear LUT operations and the thumbnail preprocessing. The canonical LUT layout is
documented in :mod:`edgemef.models.lut_distill.trilinear`.

Public API::

    StudentConfig, TeacherConfig, IWConfig, StudentLossConfig          frozen dataclass configs
    Student(config)(thumbs, grid_size=33) -> (weights B x N, lut B x S x S x S x 3)
    Teacher(config)(thumbs, grid_size=33) -> (weights, lut)
    model.fuse_frames(frames B x N x 3 x H x W, grid_size) -> LutFusion(image, weights, lut)
    ExportableStudent(student, grid_size)(thumbs) -> (weights, lut)   for torch.export and the converters
    thumbnails(frames, size=128) -> B x 3N x 128 x 128                  (= cv2 INTER_AREA per frame)
    apply_lut, fuse_and_apply, fuse_frames, identity_lut, trilinear_sample, resample_lattice
    student_loss / StudentLoss (eq. 6), teacher_loss, LongRangeLoss, ImagePatchTokeniser, GridTokeniser
    count_parameters(module)
"""

from edgemef.models.lut_distill.config import IWConfig, StudentConfig, StudentLossConfig, TeacherConfig
from edgemef.models.lut_distill.iw import ImageWeighting, area_resize, thumbnails
from edgemef.models.lut_distill.losses import (
    GridTokeniser,
    ImagePatchTokeniser,
    LongRangeLoss,
    StudentLoss,
    correlation_matrix,
    student_loss,
    teacher_loss,
)
from edgemef.models.lut_distill.student import (
    ExportableStudent,
    ImplicitLut,
    LatentEncoder,
    LutFusion,
    Student,
    count_parameters,
)
from edgemef.models.lut_distill.teacher import BasisLut, Teacher, UNet, WeightsPredictor
from edgemef.models.lut_distill.trilinear import (
    apply_lut,
    fuse_and_apply,
    fuse_frames,
    identity_lut,
    interpolation_matrix,
    resample_lattice,
    trilinear_sample,
)

__all__ = [
    "BasisLut",
    "ExportableStudent",
    "GridTokeniser",
    "IWConfig",
    "ImagePatchTokeniser",
    "ImageWeighting",
    "ImplicitLut",
    "LatentEncoder",
    "LongRangeLoss",
    "LutFusion",
    "Student",
    "StudentConfig",
    "StudentLoss",
    "StudentLossConfig",
    "Teacher",
    "TeacherConfig",
    "UNet",
    "WeightsPredictor",
    "apply_lut",
    "area_resize",
    "correlation_matrix",
    "count_parameters",
    "fuse_and_apply",
    "fuse_frames",
    "identity_lut",
    "interpolation_matrix",
    "resample_lattice",
    "student_loss",
    "teacher_loss",
    "thumbnails",
    "trilinear_sample",
]
