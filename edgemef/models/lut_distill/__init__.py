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

from edgemef.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "BasisLut": "edgemef.models.lut_distill.teacher",
        "ExportableStudent": "edgemef.models.lut_distill.student",
        "GridTokeniser": "edgemef.models.lut_distill.losses",
        "IWConfig": "edgemef.models.lut_distill.config",
        "ImagePatchTokeniser": "edgemef.models.lut_distill.losses",
        "ImageWeighting": "edgemef.models.lut_distill.iw",
        "ImplicitLut": "edgemef.models.lut_distill.student",
        "LatentEncoder": "edgemef.models.lut_distill.student",
        "LongRangeLoss": "edgemef.models.lut_distill.losses",
        "LutFusion": "edgemef.models.lut_distill.student",
        "Student": "edgemef.models.lut_distill.student",
        "StudentConfig": "edgemef.models.lut_distill.config",
        "StudentLoss": "edgemef.models.lut_distill.losses",
        "StudentLossConfig": "edgemef.models.lut_distill.config",
        "Teacher": "edgemef.models.lut_distill.teacher",
        "TeacherConfig": "edgemef.models.lut_distill.config",
        "UNet": "edgemef.models.lut_distill.teacher",
        "WeightsPredictor": "edgemef.models.lut_distill.teacher",
        "apply_lut": "edgemef.models.lut_distill.trilinear",
        "area_resize": "edgemef.models.lut_distill.iw",
        "correlation_matrix": "edgemef.models.lut_distill.losses",
        "count_parameters": "edgemef.models.lut_distill.student",
        "fuse_and_apply": "edgemef.models.lut_distill.trilinear",
        "fuse_frames": "edgemef.models.lut_distill.trilinear",
        "identity_lut": "edgemef.models.lut_distill.trilinear",
        "interpolation_matrix": "edgemef.models.lut_distill.trilinear",
        "resample_lattice": "edgemef.models.lut_distill.trilinear",
        "student_loss": "edgemef.models.lut_distill.losses",
        "teacher_loss": "edgemef.models.lut_distill.losses",
        "thumbnails": "edgemef.models.lut_distill.iw",
        "trilinear_sample": "edgemef.models.lut_distill.trilinear",
    },
)
