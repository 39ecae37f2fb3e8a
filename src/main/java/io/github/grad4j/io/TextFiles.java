package io.github.grad4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading user-supplied text strictly: a missing, empty or non-UTF-8 file is a clear error. */
public final class TextFiles {
    private TextFiles() {
    }

    public static String readUtf8(Path file) throws IOException {
        if (!Files.exists(file)) throw new NoSuchFileException(file + ": no such file");
        if (Files.isDirectory(file)) throw new IOException(file + ": is a folder, expected a text file");
        byte[] bytes = Files.readAllBytes(file);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8 (" + e.getMessage() + "); convert it with iconv first");
        }
    }
}
