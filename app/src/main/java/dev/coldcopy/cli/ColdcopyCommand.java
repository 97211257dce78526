package dev.coldcopy.cli;

public final class ColdcopyCommand {
    public static void main(String[] args) {
        System.out.println("coldcopy");
    }
}
