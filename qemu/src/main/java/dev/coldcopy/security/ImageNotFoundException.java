package dev.coldcopy.security;

/** The image named in the event does not exist. */
public class ImageNotFoundException extends ImageRefusedException {

    public ImageNotFoundException(String message) {
        super(message);
    }
}
