package io.github.grad4j.cli;

import io.github.grad4j.io.TextFiles;
import io.github.grad4j.experiments.gpt2.tokenizer.Gpt2Tokenizer;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code tokenize FILE}: the GPT-2 token ids of each line, space-separated, one output line per input line. */
final class TokenizeCommand implements Command {
    @Override
    public String name() {
        return "tokenize";
    }

    @Override
    public String summary() {
        return "GPT-2 token ids of each line of a UTF-8 text file";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("tokenize FILE [--special]")
                .positional("FILE  a UTF-8 text file; each line is encoded on its own (without its line break)")
                .flag("--special", "recognise <|endoftext|> as the special token 50256")
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary()));
            return Main.OK;
        }
        if (o.positional().size() != 1) throw new UsageException("expected one FILE, got " + o.positional().size());
        Path file = Path.of(o.positional().get(0));
        String text = TextFiles.readUtf8(file);
        Gpt2Tokenizer tok = Gpt2Tokenizer.gpt2();
        StringBuilder sb = new StringBuilder();
        String[] lines = text.split("\r?\n", -1);
        // a final line break ends the last line; it does not start an empty one
        int count = text.endsWith("\n") ? lines.length - 1 : lines.length;
        for (int l = 0; l < count; l++) {
            String line = lines[l];
            int[] ids = o.has("--special") ? tok.encodeWithSpecial(line) : tok.encode(line);
            sb.setLength(0);
            for (int i = 0; i < ids.length; i++) {
                if (i > 0) sb.append(' ');
                sb.append(ids[i]);
            }
            out.println(sb);
        }
        return Main.OK;
    }
}
