package io.github.grad4j.cli;

import io.github.grad4j.experiments.meta.FewShotConfig;
import io.github.grad4j.experiments.meta.FewShotTrainer;
import io.github.grad4j.experiments.meta.data.ClassSplits;
import io.github.grad4j.experiments.meta.data.ImageDataset;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code fewshot train}: episodic meta-training of ProtoNet or TPN on Omniglot (zip or folder). */
final class FewShotTrainCommand implements Command {
    @Override
    public String name() {
        return "fewshot train";
    }

    @Override
    public String summary() {
        return "meta-train a few-shot learner (protonet, tpn, maml, metasgd, btaml; mxml: a WPN over trained learners)";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        if (isMamlFamily(args)) return MetaLearningRunner.train(args, out);
        if (FewShotMxml.isMxmlMethod(args)) return FewShotMxml.train(args, out);
        FewShotConfig d = FewShotConfig.defaults("protonet");
        Options o = new Options("fewshot train --method protonet|tpn --data PATH --out DIR [options]")
                .option("--method", "protonet|tpn", "the few-shot learner (maml|metasgd|btaml: see --method maml --help; mxml: --method mxml --help)", null)
                .option("--device", "cpu|opencl|auto|reference", "where to compute", "cpu")
                .option("--data", "PATH", "Omniglot background set: a zip (images_background*.zip) or its folder", null)
                .option("--val-data", "PATH", "validation classes (default: hold out --val-characters of --data)", null)
                .option("--val-characters", "N", "characters of --data held out for validation when --val-data is absent", "20")
                .option("--way", "N", "classes per episode", Integer.toString(d.ways()))
                .option("--shot", "K", "support images per class", Integer.toString(d.shots()))
                .option("--query", "Q", "query images per class", Integer.toString(d.queries()))
                .flag("--within-alphabet", "draw all classes of an episode from one alphabet")
                .option("--episodes", "N", "training episodes", Integer.toString(d.episodes()))
                .option("--lr", "X", "Adam learning rate", Double.toString(d.learningRate()))
                .option("--lr-halve-every", "N", "halve the learning rate every N episodes", Integer.toString(d.lrHalvingEvery()))
                .option("--val-every", "N", "validate and checkpoint every N episodes", Integer.toString(d.validationEvery()))
                .option("--val-episodes", "N", "episodes per validation (0: none)", Integer.toString(d.validationEpisodes()))
                .option("--filters", "N", "Conv-4 channels", Integer.toString(d.filters()))
                .option("--image-size", "S", "images are resized to SxS", Integer.toString(d.imageSize()))
                .option("--k", "N", "TPN: neighbours per node", Integer.toString(d.k()))
                .option("--alpha", "X", "TPN: propagation strength in (0, 1)", Double.toString(d.alpha()))
                .flag("--learn-alpha", "TPN: train alpha (starting from --alpha)")
                .option("--seed", "N", "random seed (same seed, same numbers on the same backend)", "1")
                .option("--out", "DIR", "output folder (checkpoint, fewshot.json, logs, plots)", null)
                .flag("--resume", "continue the run in --out from its checkpoint")
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary()));
            return Main.OK;
        }
        Devices.select(o.string("--device"), System.err);
        String method = o.string("--method");
        if (!method.equals("protonet") && !method.equals("tpn")) {
            throw new UsageException("--method must be protonet, tpn, maml, metasgd, btaml or mxml, got '" + method + "'");
        }
        FewShotConfig config;
        try {
            config = new FewShotConfig(method, o.integer("--way"), o.integer("--shot"), o.integer("--query"),
                    o.has("--within-alphabet"), o.integer("--filters"), o.integer("--image-size"), o.integer("--episodes"),
                    o.real("--lr"), o.integer("--lr-halve-every"), o.integer("--val-every"), o.integer("--val-episodes"),
                    o.integer("--k"), o.real("--alpha"), o.has("--learn-alpha"), o.longValue("--seed"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Path dataPath = o.path("--data");
        Path outDir = o.path("--out");
        ImageDataset data = FewShotData.load(dataPath, config.imageSize(), "--data");
        ImageDataset train;
        ImageDataset validation = null;
        String valPath = o.stringOrNull("--val-data");
        if (valPath != null) {
            train = data;
            validation = FewShotData.load(Path.of(valPath), config.imageSize(), "--val-data");
        } else if (config.validationEpisodes() > 0) {
            int characters = o.integer("--val-characters");
            int total = data.classCount();
            if (characters < config.ways() || characters >= total) {
                throw new IllegalArgumentException("--val-characters " + characters + ": need at least --way = "
                        + config.ways() + " and fewer than the " + total + " characters of " + dataPath);
            }
            ClassSplits.Split split = ClassSplits.byClass(data, total - characters, characters, config.seed());
            train = split.train();
            validation = split.validation();
        } else {
            train = data;
        }
        out.println("fewshot train: " + method + " " + config.ways() + "-way " + config.shots() + "-shot, "
                + config.queries() + " queries; train " + train.classCount() + " classes"
                + (validation == null ? "" : ", validation " + validation.classCount() + " classes")
                + "; " + config.episodes() + " episodes -> " + outDir);
        FewShotTrainer.Outcome outcome = new FewShotTrainer(config, train, validation, outDir, out, dataPath.toString())
                .train(o.has("--resume"));
        out.printf("done: %d episodes, %.3f s/episode; last validation accuracy %s; checkpoint %s%n",
                outcome.episodesTrained(), outcome.secondsPerEpisode(),
                Double.isNaN(outcome.lastValidationAccuracy()) ? "n/a"
                        : String.format("%.2f%%", 100 * outcome.lastValidationAccuracy()),
                outDir.resolve(FewShotTrainer.CHECKPOINT));
        return Main.OK;
    }

    /** The second-order meta-learners have their own runner; this command forwards to it. */
    static boolean isMamlFamily(String[] args) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--method")) return java.util.Set.of("maml", "metasgd", "btaml").contains(args[i + 1]);
            if (args[i].startsWith("--method=")) return java.util.Set.of("maml", "metasgd", "btaml").contains(args[i].substring(9));
        }
        return false;
    }
}
