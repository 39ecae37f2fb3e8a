package io.github.grad4j.cli;

import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.OmniglotLoader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Loading the few-shot commands' data with errors that name the option and the path. */
final class FewShotData {
    private FewShotData() {
    }

    static ImageDataset load(Path path, int imageSize, String option) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(option + ": Omniglot data not found at " + path.toAbsolutePath()
                    + " (expected a zip such as images_background_small1.zip or its unpacked folder)");
        }
        return OmniglotLoader.load(path, OmniglotLoader.Options.defaults().withImageSize(imageSize));
    }
}
