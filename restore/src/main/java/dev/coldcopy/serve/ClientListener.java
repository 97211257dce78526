package dev.coldcopy.serve;

/**
 * Told when a client connects and when it has gone, on that client's own thread: a slow listener delays
 * only that client, never the server accepting others. {@code clients} counts the clients connected then.
 */
public interface ClientListener {
    ClientListener NONE = new ClientListener() {
    };

    default void connected(String peer, int clients) {
    }

    default void disconnected(String peer, int clients) {
    }
}
