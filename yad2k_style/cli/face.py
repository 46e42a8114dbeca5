"""The ``face`` subcommands: ``enroll``, ``verify``, ``identify``, ``calibrate``, ``convert-openface``.

Each checks its options, calls :mod:`yad2k_style.face` and prints; nothing of TensorFlow is imported
while parsing.
"""

from pathlib import Path

from yad2k_style.cli import checks
from yad2k_style.errors import YadError

MODEL_HELP = "face model directory (from face convert-openface or training) (default: the packaged one)"


def register(subcommands):
    face = subcommands.add_parser(
        "face", help="face recognition: enroll, verify, identify, calibrate, convert OpenFace weights",
        description="Face recognition with the course's Inception embedding (OpenFace nn4.small2): one "
                    "image per person is enough (one-shot). Distances are plain L2 norms between "
                    "128-d unit embeddings; two faces are one person below the model's threshold.")
    actions = face.add_subparsers(dest="action", required=True, metavar="ACTION")

    enroll = actions.add_parser("enroll", help="add a person's images to a face database")
    enroll.add_argument("name", help="the person's name")
    enroll.add_argument("images", nargs="+", metavar="IMAGE", help="one or more images of the person")
    _add_common(enroll, database_must_exist=False)
    enroll.set_defaults(run=_enroll)

    verify = actions.add_parser("verify", help="is the person in IMAGE the claimed NAME?",
                                description="Is the person in IMAGE the claimed NAME? Exit code 0 when "
                                            "verified (distance below the threshold), 1 when not.")
    verify.add_argument("image", metavar="IMAGE", help="the image to check")
    verify.add_argument("name", metavar="NAME", help="the claimed identity, enrolled in the database")
    _add_common(verify)
    verify.set_defaults(run=_verify)

    identify = actions.add_parser("identify", help="the nearest enrolled person for each image")
    identify.add_argument("images", nargs="+", metavar="IMAGE", help="images to identify")
    _add_common(identify)
    identify.set_defaults(run=_identify)

    calibrate = actions.add_parser(
        "calibrate", help="choose the model's distance threshold from labelled pairs",
        description="PAIRS_FILE has lines 'IMAGE1 IMAGE2 SAME' (SAME 1: one person, 0: two). Prints the "
                    "ROC's AUC, the k-fold best-accuracy threshold and the threshold at --far, draws the "
                    "ROC, and stores the best-accuracy threshold in the model directory.")
    calibrate.add_argument("pairs", metavar="PAIRS_FILE", help="labelled pairs of image files")
    calibrate.add_argument("--model", metavar="DIR", required=True, help="face model directory (required)")
    calibrate.add_argument("--far", type=float, default=1e-3,
                           help="target false-accept rate for the second threshold (default 0.001)")
    calibrate.add_argument("--folds", type=int, default=10, help="cross-validation folds (default 10)")
    calibrate.add_argument("--plot", metavar="FILE.png", default="roc.png",
                           help="ROC curve image (default roc.png; '' for none)")
    calibrate.add_argument("--dry-run", action="store_true",
                           help="print, but do not store the threshold (default: store it)")
    calibrate.set_defaults(run=_calibrate)

    convert = actions.add_parser("convert-openface",
                                 help="convert the course's OpenFace CSV weights into a model directory")
    convert.add_argument("csv_dir", metavar="CSV_DIR", help="folder of conv1_w.csv … dense_b.csv")
    convert.add_argument("out", metavar="OUT", help="model directory to create")
    convert.set_defaults(run=_convert_openface)


def _add_common(parser, database_must_exist=True):
    parser.add_argument("--db", metavar="FILE", required=True,
                        help="face database file (.npz)" + ("" if database_must_exist else
                                                           ", created if missing") + " (required)")
    parser.add_argument("--model", metavar="DIR", help=MODEL_HELP)
    parser.add_argument("--threshold", type=float,
                        help="distance threshold (default: the model's, 0.7 unless calibrated)")


def _embedder(args):
    from yad2k_style.face.embedder import FaceEmbedder

    if args.threshold is not None:
        checks.positive("--threshold", args.threshold)
    embedder = FaceEmbedder.load(args.model)
    if args.threshold is not None:
        embedder.threshold = args.threshold
    return embedder


def _database(args, embedder, must_exist=True):
    from yad2k_style.face.database import FaceDatabase

    if not must_exist and not Path(args.db).exists():
        checks.file_to_write("--db", args.db)
        return FaceDatabase(embedder.embedding_size)
    return FaceDatabase.load(args.db, embedder.embedding_size)


def _enroll(args):
    embedder = _embedder(args)
    database = _database(args, embedder, must_exist=False)
    database.enroll(args.name, embedder.encode_files(args.images))
    database.save(args.db)
    print(f"enrolled {args.name}: {len(args.images)} image(s); {args.db} holds {len(database.identities)} "
          f"people, {len(database)} images")
    return 0


def _verify(args):
    from yad2k_style.face.recognition import verify

    embedder = _embedder(args)
    database = _database(args, embedder)
    if args.name not in database:
        raise YadError(f"{args.name!r} is not in {args.db} (enrolled: {', '.join(database.identities)})")
    dist, door_open = verify(args.image, args.name, database, embedder.model, embedder.threshold)
    print(f"distance {dist:.4f}, threshold {embedder.threshold:.4f}")
    return 0 if door_open else 1


def _identify(args):
    embedder = _embedder(args)
    database = _database(args, embedder)
    names, distances = database.nearest(embedder.encode_files(args.images))
    for path, name, distance in zip(args.images, names, distances, strict=True):
        verdict = name if distance <= embedder.threshold else "not in the database"
        print(f"{path}: {verdict} (nearest {name}, distance {distance:.4f})")
    return 0


def _calibrate(args):
    import numpy as np

    from yad2k_style import artifacts
    from yad2k_style.face.calibration import calibrate, plot_roc, read_pairs
    from yad2k_style.face.embedder import FaceEmbedder

    checks.between("--far", args.far, 0, 1)
    checks.at_least("--folds", args.folds, 2)
    checks.file_to_write("--plot", args.plot)
    embedder = FaceEmbedder.load(args.model)
    firsts, seconds, same = read_pairs(args.pairs)
    distances = np.linalg.norm(embedder.encode_files(firsts) - embedder.encode_files(seconds), axis=1)
    result = calibrate(distances, same, args.folds, args.far)
    print(f"{len(same)} pairs ({int(same.sum())} same person): ROC AUC {result.auc:.4f}")
    print(f"best-accuracy threshold {result.threshold:.4f} "
          f"({args.folds}-fold accuracy {result.accuracy:.4f})")
    print(f"threshold at FAR {args.far:g}: {result.far_threshold:.4f} (true accepts {result.tpr:.4f})")
    if args.plot:
        plot_roc(result, args.plot)
        print(f"ROC curve: {args.plot}")
    if not args.dry_run:
        artifacts.update_info(args.model, threshold=result.threshold)
        print(f"stored threshold {result.threshold:.4f} in {args.model}")
    return 0


def _convert_openface(args):
    from yad2k_style.face.openface import convert_openface

    model = convert_openface(args.csv_dir, args.out)
    print(f"Wrote {args.out}: model {model.name!r}, {len(model.layers)} layers, "
          f"{model.count_params():,} params, output {model.output_shape[1:]}")
    return 0
