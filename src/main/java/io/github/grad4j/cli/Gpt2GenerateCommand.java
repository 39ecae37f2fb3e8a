package io.github.grad4j.cli;

import io.github.grad4j.experiments.gpt2.Gpt2Generator;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.Gpt2ModelFiles;
import io.github.grad4j.experiments.gpt2.tokenizer.Gpt2Tokenizer;
import io.github.grad4j.tensor.Rng;

import java.io.PrintStream;

/** {@code gpt2 generate}: continues a prompt with {@link Gpt2Generator} and prints prompt and continuation. */
final class Gpt2GenerateCommand implements Command {
    @Override
    public String name() {
        return "gpt2 generate";
    }

    @Override
    public String summary() {
        return "continue a prompt with a GPT-2 (temperature, top-k, seed)";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("gpt2 generate --model DIR --prompt TEXT [options]")
                .option("--model", "DIR", "Hugging Face folder (config.json, model.safetensors) or a gpt2 train --out folder", null)
                .option("--prompt", "TEXT", "text to continue; <|endoftext|> is the special token", null)
                .option("--max-tokens", "N", "most tokens to generate (stops early at <|endoftext|>)", "64")
                .option("--temperature", "X", "divides the logits; 0 is greedy", "0.8")
                .option("--top-k", "K", "sample among the K most likely tokens; 0 for all", "200")
                .common(null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary()));
            return Main.OK;
        }
        if (!o.positional().isEmpty()) throw new UsageException("unexpected argument '" + o.positional().get(0) + "'");
        String prompt = o.string("--prompt");
        Gpt2Generator.Options sampling;
        try {
            sampling = Gpt2Generator.Options.sampling(o.integer("--max-tokens")).withTemperature(o.real("--temperature"))
                    .withTopK(o.integer("--top-k"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (prompt.isEmpty()) {
            throw new UsageException("--prompt is empty; give at least one token (GPT-2 conventionally starts with <|endoftext|>)");
        }
        Devices.apply(o);
        Gpt2Model model = Gpt2ModelFiles.load(o.path("--model"));
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.gpt2();
        int eot = tokenizer.endOfTextId();
        if (eot < model.config().vocabSize()) sampling = sampling.withStopToken(eot);
        int[] ids = tokenizer.encodeWithSpecial(prompt);
        int[] generated = new Gpt2Generator(model).generate(ids, sampling, new Rng(o.longValue("--seed")));
        out.println(prompt + tokenizer.decode(generated));
        return Main.OK;
    }
}
