package dev.coldcopy.vmrestore;

import dev.coldcopy.domain.DomainDefinition;
import dev.coldcopy.domain.HostFileRef;
import dev.coldcopy.domain.RestoredDomain;
import dev.coldcopy.event.EventNames;
import dev.coldcopy.libvirt.Virsh;
import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.SnapshotKind;
import dev.coldcopy.repository.SnapshotManifest;
import dev.coldcopy.repository.vm.HostFile;
import dev.coldcopy.repository.vm.VmBackup;
import dev.coldcopy.repository.vm.VmBackups;
import dev.coldcopy.repository.vm.VmDisk;
import dev.coldcopy.restore.RestoreFormat;
import dev.coldcopy.restore.RestoreRequest;
import dev.coldcopy.restore.RestoreResult;
import dev.coldcopy.restore.Restorer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Restores a whole VM from one VM backup into a directory: every backed-up disk (the snapshots of that stop
 * event), the host files (NVRAM, kernel, initrd, dtb) and a domain XML whose paths point into the directory,
 * optionally under a new name (new UUID, new MAC addresses), optionally defined in libvirt.
 *
 * <p>Everything that can be refused is refused before the first byte is written: a disk whose snapshot is gone or
 * is a delta, a file that already exists in the directory, a domain of that name already defined. If a restore
 * fails halfway, the files it created are removed again.
 */
public final class VmRestorer {

    /**
     * @param dir     where every file goes (created if missing; no file of the restore may exist there yet)
     * @param newName the restored VM's name; empty keeps the original name, UUID and MAC addresses
     * @param virsh   libvirt to define the VM in; empty: only the XML is written
     */
    public record Request(VmBackup backup, Path dir, Optional<String> newName, Optional<Virsh> virsh, boolean sync) {
    }

    /** What was restored, where; one line per item for the command line. */
    public record Result(VmBackup backup, String name, Optional<Path> xml, boolean defined, List<String> lines) {
    }

    private final Repository repository;

    public VmRestorer(Repository repository) {
        this.repository = repository;
    }

    public Result restore(Request request, Consumer<String> progress) throws IOException {
        VmBackup backup = request.backup();
        String name = EventNames.vm(request.newName().orElse(backup.vm()));
        Path dir = request.dir().toAbsolutePath().normalize();
        Optional<String> storedXml = backup.domainXml().isPresent()
                ? Optional.of(new String(new VmBackups(repository).readFile(backup.domainXml().get()), StandardCharsets.UTF_8))
                : Optional.empty();

        // ---- decide every output and refuse what cannot be done, before writing anything
        Map<VmDisk, SnapshotManifest> manifests = new LinkedHashMap<>();
        Map<String, RestoredDomain.RestoredDisk> disks = new LinkedHashMap<>();
        for (VmDisk disk : backup.disks()) {
            if (!VmDisk.BACKED_UP.equals(disk.outcome())) {
                continue;
            }
            SnapshotManifest manifest;
            try {
                manifest = repository.load(disk.snapshot());
            } catch (ObjectNotFoundException e) {
                throw new IllegalArgumentException("disk " + disk.target() + "'s snapshot " + disk.snapshot()
                        + " is no longer in the repository (pruned?): VM backup " + backup.id() + " cannot be restored whole");
            }
            if (manifest.kind() == SnapshotKind.DELTA) {
                throw new IllegalArgumentException("disk " + disk.target() + "'s snapshot " + disk.snapshot() + " is a delta: restore"
                        + " it alone onto its base (restore --disk " + disk.target() + " --onto BASE)");
            }
            RestoreFormat format = "raw".equals(disk.format()) ? RestoreFormat.RAW : RestoreFormat.QCOW2;
            manifests.put(disk, manifest);
            disks.put(disk.target(), new RestoredDomain.RestoredDisk(dir.resolve(disk.target() + "." + format.qemuName()), format));
        }
        Map<String, Path> files = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        backup.files().stream().filter(f -> !HostFile.DOMAIN_XML.equals(f.role()))
                .forEach(f -> files.put(f.role(), dir.resolve(fileName(f.role(), name))));
        for (HostFileRef ref : storedXml.map(DomainDefinition::parse).map(DomainDefinition::files).orElse(List.of())) {
            if (files.containsKey(ref.role())) {
                continue;
            }
            if (HostFileRef.NVRAM.equals(ref.role())) {
                // libvirt creates a missing NVRAM from its template at the first start
                files.put(ref.role(), dir.resolve(fileName(ref.role(), name)));
                warnings.add(name + " nvram: not in this backup (it did not exist when the VM stopped); libvirt creates "
                        + files.get(ref.role()) + " from the firmware's template at the first start");
            } else {
                files.put(ref.role(), ref.path());
                warnings.add(name + " " + ref.role() + ": not in this backup (" + ref.path() + " did not exist when the VM"
                        + " stopped); the XML keeps that path");
            }
        }
        Optional<Path> xmlPath = storedXml.map(x -> dir.resolve(name + ".xml"));
        String newXml = storedXml.map(x -> RestoredDomain.xml(x, disks, files, request.newName())).orElse(null);

        if (request.virsh().isPresent()) {
            if (storedXml.isEmpty()) {
                throw new IllegalArgumentException("VM backup " + backup.id() + " holds no domain definition (it was backed up"
                        + " with --disk, not from libvirt): there is nothing to define");
            }
            Virsh virsh = request.virsh().get();
            virsh.checkConnection();
            if (virsh.exists(name)) {
                throw new IllegalArgumentException("a domain named " + name + " is already defined on " + virsh.uri()
                        + ": restore under a new name (--name NEW), or undefine it first");
            }
        }
        List<Path> outputs = new ArrayList<>();
        disks.values().forEach(d -> outputs.add(d.image()));
        backup.files().stream().filter(f -> !HostFile.DOMAIN_XML.equals(f.role())).forEach(f -> outputs.add(files.get(f.role())));
        xmlPath.ifPresent(outputs::add);
        for (Path p : outputs) {
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException(p + " already exists: restore into a directory without the VM's files");
            }
        }

        // ---- write
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--to " + dir + " is not a directory");
        }
        boolean newDirectory = !Files.exists(dir);
        Files.createDirectories(dir);
        List<Path> created = new ArrayList<>();
        List<String> lines = new ArrayList<>(warnings);
        warnings.forEach(progress);
        boolean done = false;
        try {
            for (Map.Entry<VmDisk, SnapshotManifest> e : manifests.entrySet()) {
                RestoredDomain.RestoredDisk target = disks.get(e.getKey().target());
                // the restorer removes its own partial output when it fails
                RestoreResult r = new Restorer(repository).restore(new RestoreRequest(e.getValue(), target.image(), target.format(),
                        Optional.empty(), request.sync()));
                created.add(target.image());
                String line = String.format("%s/%s %s restored to %s (%s) in %.1f s", backup.vm(), e.getKey().target(),
                        e.getValue().id(), r.output(), target.format().qemuName(), r.duration().toMillis() / 1000.0);
                lines.add(line);
                progress.accept(line);
            }
            for (HostFile file : backup.files()) {
                if (HostFile.DOMAIN_XML.equals(file.role())) {
                    continue;
                }
                Path out = files.get(file.role());
                writeNew(out, o -> new VmBackups(repository).readFile(file, o), request.sync(), created);
                String line = backup.vm() + " " + file.role() + " (" + file.path() + ") restored to " + out;
                lines.add(line);
                progress.accept(line);
            }
            if (newXml != null) {
                writeNew(xmlPath.get(), o -> o.write(newXml.getBytes(StandardCharsets.UTF_8)), request.sync(), created);
                String line = name + " domain XML written to " + xmlPath.get();
                lines.add(line);
                progress.accept(line);
            }
            boolean defined = false;
            if (request.virsh().isPresent()) {
                request.virsh().get().define(xmlPath.get());
                defined = true;
                String line = name + " defined on " + request.virsh().get().uri() + " (virsh start " + name + ")";
                lines.add(line);
                progress.accept(line);
            }
            done = true;
            return new Result(backup, name, xmlPath, defined, lines);
        } finally {
            if (!done) {
                for (Path p : created) {
                    Files.deleteIfExists(p);
                }
                if (newDirectory) {
                    try {
                        Files.deleteIfExists(dir);
                    } catch (java.nio.file.DirectoryNotEmptyException e) {
                        // something else was put there meanwhile: not ours to remove
                    }
                }
            }
        }
    }

    /** Where a host file goes: the NVRAM as libvirt names it ({@code NAME_VARS.fd}), the others by their role. */
    static String fileName(String role, String vmName) {
        return HostFileRef.NVRAM.equals(role) ? vmName + "_VARS.fd" : role;
    }

    private interface Writing {
        void to(OutputStream out) throws IOException;
    }

    /** Created exclusively (never over an existing file), owner-only: an NVRAM holds the guest's firmware secrets. */
    private static void writeNew(Path path, Writing writing, boolean sync, List<Path> created) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException(path + " already exists: restore into a directory without the VM's files");
        }
        created.add(path);   // ours from here: removed again if the restore fails
        try (channel; OutputStream out = Channels.newOutputStream(channel)) {
            writing.to(out);
            out.flush();
            if (sync) {
                channel.force(true);
            }
        }
    }
}
