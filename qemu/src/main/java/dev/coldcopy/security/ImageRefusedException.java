package dev.coldcopy.security;

/** An image path coldcopy will not touch: outside the allowed roots, not a regular file, odd characters. */
public class ImageRefusedException extends RefusedException {

    public ImageRefusedException(String message) {
        super(message);
    }
}
