"""The ``stylize`` subcommand: neural style transfer from image files (:mod:`yad2k_style.style`).

Options are checked before any work; the output image, the intermediate images and the plot of the
costs are written atomically.
"""

import sys
from pathlib import Path

from yad2k_style.cli import checks
from yad2k_style.errors import YadError

STEPS, SAVE_EVERY, SIZE = 2500, 250, 400  # the course's loop: 2500 steps, an image every 250, 400 px
REPORTS = 10  # plain-text progress lines when the output is not a terminal and nothing is saved


def register(subcommands):
    stylize = subcommands.add_parser(
        "stylize", help="neural style transfer: CONTENT painted in the style of STYLE",
        description="Generate an image with the content of CONTENT and the style of STYLE (several: a "
                    "weighted mix) by gradient descent on its pixels, as in the course: J = alpha "
                    "J_content + beta J_style over VGG features. Writes OUT, an image every --save-every "
                    "steps (OUT_0250.png …) and a plot of the costs.")
    stylize.add_argument("content", metavar="CONTENT", help="the content image")
    stylize.add_argument("styles", nargs="+", metavar="STYLE", help="one or more style images")
    stylize.add_argument("-o", "--output", "--out", required=True, metavar="OUT.png",
                         help="the generated image (required)")
    stylize.add_argument("--style-weights", nargs="+", type=float, metavar="W",
                         help="one weight per style image, normalised to sum 1 (default: equal)")
    stylize.add_argument("--backbone", choices=("vgg16", "vgg19"), default="vgg16",
                         help="feature network (default vgg16; the course's is vgg19)")
    stylize.add_argument("--weights", default="imagenet", metavar="imagenet|FILE|none",
                         help="VGG weights: 'imagenet' (Keras downloads them once into ~/.keras/models), a "
                              "weights file, or 'none' (random: for trying the command) (default imagenet)")
    stylize.add_argument("--steps", type=int, default=STEPS, help=f"optimisation steps (default {STEPS})")
    stylize.add_argument("--long-side", "--size", type=int, default=SIZE, metavar="PIXELS",
                         help=f"pixels on the generated image's longer side (default {SIZE})")
    stylize.add_argument("--alpha", type=float, default=10.0, help="content weight (default 10)")
    stylize.add_argument("--beta", type=float, default=40.0, help="style weight (default 40)")
    stylize.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate (default 0.01)")
    stylize.add_argument("--tv", type=float, default=0.0, help="total-variation weight (default 0: none)")
    stylize.add_argument("--keep-colors", action="store_true",
                         help="transfer the style of the luminance only and keep the content's colours "
                              "(default: off)")
    stylize.add_argument("--save-every", type=int, default=SAVE_EVERY,
                         help=f"steps between intermediate images (default {SAVE_EVERY}; 0: none)")
    stylize.add_argument("--plot", metavar="FILE.png",
                         help="plot of the costs over the steps (default OUT_costs.png; '' for none)")
    stylize.add_argument("--vgg-preprocessing", action="store_true",
                         help="feed VGG its ImageNet preprocessing (BGR, mean subtracted) instead of the "
                              "course's [0, 1] pixels (default: off)")
    stylize.add_argument("--xla", action="store_true", help="compile the step with XLA (default: off)")
    stylize.add_argument("--mixed-precision", action="store_true",
                         help="VGG in float16, the costs in float32 (for GPUs) (default: off)")
    stylize.add_argument("--seed", type=int, default=0, help="seed of the initial noise (default 0)")
    checks.add_overwrite_option(stylize)
    stylize.set_defaults(run=_stylize)


def _check(args):
    from yad2k_style.images import image_format
    from yad2k_style.style.stylize import MIN_SIZE, intermediate_path

    checks.at_least("--steps", args.steps, 1)
    checks.at_least("--long-side", args.long_side, MIN_SIZE)
    checks.at_least("--save-every", args.save_every, 0)
    for option in ("--alpha", "--beta", "--tv"):
        checks.at_least(option, getattr(args, option[2:]), 0)
    checks.positive("--lr", args.lr)
    for weight in args.style_weights or ():
        checks.positive("--style-weights", weight)
    if args.style_weights is not None and len(args.style_weights) != len(args.styles):
        raise YadError(f"--style-weights: {len(args.style_weights)} weights for {len(args.styles)} "
                       "style images")
    inputs = {Path(path).resolve() for path in (args.content, *args.styles)}
    if Path(args.output).resolve() in inputs or (args.plot and Path(args.plot).resolve() in inputs):
        raise YadError(f"-o {args.output}: would overwrite an input image; give another output name")
    checks.file_to_write("-o", args.output, args.overwrite)
    image_format(args.output)
    checks.file_to_write("--plot", _plot_path(args), args.overwrite)
    saved = range(args.save_every, args.steps, args.save_every) if args.save_every else ()
    checks.files_to_write("--save-every", [intermediate_path(Path(args.output), step, args.steps)
                                           for step in saved], args.overwrite)


def _plot_path(args):
    """``--plot``, or ``OUT_costs.png`` beside the output when it is not given; None for ``''``."""
    out = Path(args.output)
    return str(out.with_name(f"{out.stem}_costs.png")) if args.plot is None else args.plot or None


def _stylize(args):
    from yad2k_style.progress import Progress, is_terminal
    from yad2k_style.style.stylize import StylizeJob, stylize
    from yad2k_style.style.transfer import StyleSettings

    _check(args)
    plot = _plot_path(args)
    settings = StyleSettings(alpha=args.alpha, beta=args.beta, learning_rate=args.lr,
                             total_variation=args.tv, vgg_preprocessing=args.vgg_preprocessing,
                             jit_compile=args.xla)
    job = StylizeJob(args.content, tuple(args.styles), args.output,
                     style_weights=tuple(args.style_weights) if args.style_weights else None,
                     backbone=args.backbone, weights=None if args.weights == "none" else args.weights,
                     steps=args.steps, size=args.long_side, save_every=args.save_every, plot=plot,
                     keep_colors=args.keep_colors, mixed_precision=args.mixed_precision, seed=args.seed,
                     settings=settings)
    report_every = args.save_every or max(1, args.steps // REPORTS)
    terminal = is_terminal()
    with Progress(args.steps, "step", metrics=("J", "J_content", "J_style")) as bar:
        def show(step, costs):
            bar.update(step, [("J", costs["total"]), ("J_content", costs["content"]),
                              ("J_style", costs["style"])])
            if not terminal and (step % report_every == 0 or step == args.steps):
                print(f"step {step}/{args.steps}: J {costs['total']:.4g}, J_content {costs['content']:.4g}, "
                      f"J_style {costs['style']:.4g}")
                sys.stdout.flush()

        image, _ = stylize(job, show)
    plotted = f"; costs plotted in {plot}" if plot else ""
    print(f"wrote {args.output} ({image.shape[1]}×{image.shape[0]} pixels){plotted}")
    return 0
