"""The ``face`` subcommands: ``enroll``, ``verify``, ``identify``, ``calibrate``, ``convert-openface``.

Each checks its options, calls :mod:`yad2k_style.face` and prints; nothing of TensorFlow is imported
while parsing.
"""

from pathlib import Path

from yad2k_style.cli import checks
from yad2k_style.errors import YadError

SAMPLE_GRID = "face_matches.png"  # `face identify` without images: the queries and their matches
MODEL_HELP = "face model directory (from face convert-openface or training) (default: the packaged one)"


def register(subcommands):
    face = subcommands.add_parser(
        "face", help="face recognition: enroll, verify, identify, evaluate, train, calibrate, "
                     "convert-openface",
        description="Face recognition with the course's Inception embedding (OpenFace nn4.small2): one "
                    "image per person is enough (one-shot). Distances are plain L2 norms between "
                    "128-d unit embeddings; two faces are one person below the model's threshold.")
    actions = face.add_subparsers(dest="action", required=True, metavar="ACTION")

    enroll = actions.add_parser(
        "enroll", help="add a person's images to a face database",
        description="Embed each image of NAME with the face model and add the embeddings to the database "
                    "file (--db, created if missing; a person enrolled again gets more images). verify "
                    "and identify compare with the nearest of a person's images.")
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

    identify = actions.add_parser(
        "identify", help="the nearest enrolled person for each image",
        description="The nearest enrolled person for each image, or 'not in the database' beyond the "
                    "threshold. With no images: the packaged sample faces, one enrolled per person, the "
                    "others identified, and a PNG of queries and matches.")
    identify.add_argument("images", nargs="*", metavar="IMAGE",
                          help="images or folders of images to identify (default: the packaged sample "
                          "faces)")
    _add_common(identify, database_required=False)
    identify.add_argument("--grid", metavar="FILE.png",
                          help=f"without images: where the picture of queries and matches goes "
                          f"(default {SAMPLE_GRID})")
    checks.add_overwrite_option(identify)
    identify.set_defaults(run=_identify)

    evaluate = actions.add_parser(
        "evaluate", help="the one-shot protocol on identities never seen in training",
        description="N synthetic identities never seen in training, one image each enrolled and M others "
                    "as queries: rank-1 identification accuracy, verification accuracy on balanced "
                    "same/different pairs at a threshold calibrated on separate unseen identities, ROC "
                    "AUC; and the same for raw pixels and the untrained network.")
    evaluate.add_argument("--model", metavar="DIR", help=MODEL_HELP)
    evaluate.add_argument("--identities", type=int, default=200, help="unseen identities (default 200)")
    evaluate.add_argument("--queries", type=int, default=4, help="query images per identity (default 4)")
    evaluate.add_argument("--plot", metavar="FILE.png", default="face_roc.png",
                          help="ROC curves of the three (default face_roc.png; '' for none)")
    evaluate.add_argument("--json", metavar="FILE", help="also write the figures as JSON (default: none)")
    checks.add_runtime_option(evaluate)
    checks.add_overwrite_option(evaluate)
    evaluate.set_defaults(run=_evaluate)

    train = actions.add_parser(
        "train", help="train the embedding with triplet losses",
        description="Train the course's network on a folder with one subfolder of images per identity, "
                    "or (no DIR) on synthetic identities. Batches of P identities × K images; a "
                    "validation report after each epoch; rerun to resume; --out becomes a model "
                    "directory with a calibrated threshold.")
    train.add_argument("dataset", nargs="?", metavar="DIR", help="identity folders (default: synthetic)")
    train.add_argument("--out", required=True, metavar="DIR", help="run directory (required)")
    train.add_argument("--epochs", type=int, default=12, help="epochs (default 12)")
    train.add_argument("--steps", type=int, default=500, help="batches per epoch (default 500)")
    train.add_argument("--identities", type=int, default=16, help="identities per batch, P (default 16)")
    train.add_argument("--images", type=int, default=4, help="images per identity, K (default 4)")
    train.add_argument("--learning-rate", type=float, default=1e-3,
                       help="Adam's, decaying to 5 %% of it (default 0.001)")
    train.add_argument("--margin", type=float, default=0.2, help="triplet margin (default 0.2)")
    train.add_argument("--loss", choices=("semi-hard", "batch-hard", "batch-all"), default="semi-hard",
                       help="which triplets count (default semi-hard)")
    train.add_argument("--devices", help="comma-separated devices for MirroredStrategy "
                       "(default: all GPUs when there are several)")
    train.set_defaults(run=_train)

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
    checks.add_overwrite_option(calibrate)
    calibrate.set_defaults(run=_calibrate)

    convert = actions.add_parser(
        "convert-openface", help="convert the course's OpenFace CSV weights into a model directory",
        description="Read the course's folder of OpenFace nn4.small2 weights (224 CSV files, conv1_w.csv … "
                    "dense_b.csv, Torch's layouts) into a new face model directory for --model.")
    convert.add_argument("csv_dir", metavar="CSV_DIR", help="folder of conv1_w.csv … dense_b.csv")
    convert.add_argument("out", metavar="OUT", help="model directory to create")
    convert.set_defaults(run=_convert_openface)


def _add_common(parser, database_must_exist=True, database_required=True):
    created = "" if database_must_exist else ", created if missing"
    required = " (required)" if database_required else " (with images; default: none)"
    parser.add_argument("--db", metavar="FILE", required=database_required,
                        help=f"face database file (.npz){created}{required}")
    parser.add_argument("--model", metavar="DIR", help=MODEL_HELP)
    parser.add_argument("--threshold", type=float,
                        help="distance threshold (default: the model's, 0.7 unless calibrated)")
    checks.add_runtime_option(parser)


def _embedder(args):
    from yad2k_style.face.embedder import FaceEmbedder

    if args.threshold is not None:
        checks.positive("--threshold", args.threshold)
    embedder = FaceEmbedder.load(args.model, args.runtime)
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
    if not args.images:
        return _identify_samples(args)
    if args.grid is not None:
        raise YadError("--grid draws the packaged samples' matches: give no images with it")
    if args.db is None:
        raise YadError("give --db FILE with the images to identify")
    from yad2k_style.images import list_images

    paths = list_images(args.images)
    embedder = _embedder(args)
    database = _database(args, embedder)
    names, distances = database.nearest(embedder.encode_files(paths))
    for path, name, distance in zip(paths, names, distances, strict=True):
        verdict = name if distance <= embedder.threshold else "not in the database"
        print(f"{path}: {verdict} (nearest {name}, distance {distance:.4f})")
    return 0


def _identify_samples(args):
    from yad2k_style.face.samples import draw_matches, identify_samples

    grid = args.grid or SAMPLE_GRID
    checks.file_to_write("--grid", grid, args.overwrite)
    embedder = _embedder(args)
    rows = identify_samples(embedder)
    for query, _, found, distance, _ in rows:
        verdict = found if distance <= embedder.threshold else "not in the database"
        print(f"{query.name}: {verdict} (nearest {found}, distance {distance:.4f})")
    right = draw_matches(rows, embedder.threshold, grid)
    print(f"{right:.0%} of {len(rows)} sample queries identified; queries and matches: {grid}")
    return 0


def _evaluate(args):
    import json

    import keras

    from yad2k_style.face import evaluate
    from yad2k_style.face.embedder import FaceEmbedder
    from yad2k_style.face.model import face_reco_model
    from yad2k_style.face.synthetic import CALIBRATION_SEED
    from yad2k_style.files import write_text_atomically

    checks.at_least("--identities", args.identities, 2)
    checks.at_least("--queries", args.queries, 1)
    checks.file_to_write("--plot", args.plot, args.overwrite)
    checks.file_to_write("--json", args.json, args.overwrite)
    embedder = FaceEmbedder.load(args.model, args.runtime)
    evaluation = evaluate.protocol_images(args.identities, args.queries)
    calibration = evaluate.protocol_images(args.identities, args.queries, seed=CALIBRATION_SEED)
    keras.utils.set_random_seed(0)  # the untrained network's initialisation
    network = embedder.model if args.runtime == "keras" else embedder.inference_network()
    methods = [("model", evaluate.network_encoder(network)), ("raw pixels", evaluate.raw_pixels),
               ("untrained network", evaluate.network_encoder(face_reco_model()))]
    results = [evaluate.one_shot(encode, name, evaluation, calibration) for name, encode in methods]
    print(f"{args.identities} unseen identities, 1 enrolled + {args.queries} query images each "
          f"(threshold calibrated on {args.identities} other unseen identities)")
    print(f"{'':18} {'rank-1':>7} {'verification':>13} {'ROC AUC':>8} {'threshold':>10}")
    for r in results:
        print(f"{r.name:18} {r.rank1:7.3f} {r.verification:13.3f} {r.auc:8.3f} {r.threshold:10.4f}")
    if args.plot:
        evaluate.plot_results(results, args.plot)
        print(f"ROC curves: {args.plot}")
    if args.json:
        write_text_atomically(args.json, json.dumps({r.name: {
            "rank1": r.rank1, "verification": r.verification, "auc": r.auc, "threshold": r.threshold}
            for r in results}, indent=1))
    return 0


def _train(args):
    from yad2k_style.face.train import FaceTrainingConfig, train_face
    from yad2k_style.progress import fit_verbosity

    checks.at_least("--epochs", args.epochs, 1)
    checks.at_least("--steps", args.steps, 1)
    checks.at_least("--identities", args.identities, 2)
    checks.at_least("--images", args.images, 2)
    checks.positive("--learning-rate", args.learning_rate)
    checks.positive("--margin", args.margin)
    checks.directory_to_write("--out", args.out)
    train_face(FaceTrainingConfig(
        out=args.out, dataset=args.dataset, epochs=args.epochs, steps=args.steps, identities=args.identities,
        images=args.images, learning_rate=args.learning_rate, margin=args.margin, loss=args.loss,
        devices=tuple(args.devices.split(",")) if args.devices else None, verbose=fit_verbosity()))
    print(f"trained face model: {args.out} (use --model {args.out})")
    return 0


def _calibrate(args):
    import numpy as np

    from yad2k_style import artifacts
    from yad2k_style.face.calibration import calibrate, plot_roc, read_pairs
    from yad2k_style.face.embedder import FaceEmbedder

    checks.between("--far", args.far, 0, 1)
    checks.at_least("--folds", args.folds, 2)
    checks.file_to_write("--plot", args.plot, args.overwrite)
    firsts, seconds, same = read_pairs(args.pairs)
    if args.folds > len(same):
        raise YadError(f"--folds {args.folds}: {args.pairs} has {len(same)} pairs, so at most {len(same)} "
                       f"folds")
    embedder = FaceEmbedder.load(args.model)
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
