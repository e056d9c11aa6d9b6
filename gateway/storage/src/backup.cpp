#include "ariadne/storage/backup.h"

#include "ariadne/storage/migrations.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "ariadne/protocol/build_info.h"
#include "ariadne/storage/data_dir_lock.h"
#include "private_files.h"
#include "ustar.h"

namespace ariadne::storage {

namespace fs = std::filesystem;
using namespace detail;

namespace {

constexpr const char* kFormatName = "ariadne-backup";
constexpr const char* kManifestName = "manifest.json";
constexpr const char* kDatabase = "ariadne.db";
constexpr const char* kCheckpoints = "audit-checkpoints";
constexpr const char* kHistory = "edge/history.db";
constexpr std::uint64_t kMaxManifestBytes = 1 << 20;

// ---- small helpers ----

/// Runs one step of `operation`; any failure becomes Error "<operation> failed at step
/// '<step>': <why><after>", keeping the kind of a storage::Error.
template <class F>
decltype(auto) at_step(const char* operation, const std::string& step, F&& f,
                       const char* after = "") {
    try {
        return std::forward<F>(f)();
    } catch (const Error& e) {
        throw Error(e.kind(), e.sqlite_code(),
                    std::string(operation) + " failed at step '" + step + "': " + e.what() + after);
    } catch (const std::exception& e) {
        throw Error(ErrorKind::other, 0,
                    std::string(operation) + " failed at step '" + step + "': " + e.what() + after);
    }
}

constexpr const char* kUnchanged = " Nothing in the data directory was changed.";

std::string utc_text(const char* format) {
    std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

BackupMember describe(const fs::path& file, const std::string& name) {
    File in = open_read(file);
    Sha256 sha;
    BackupMember m{name, 0, ""};
    std::array<char, 1 << 16> buf;
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), in.get())) {
        sha.update(buf.data(), n);
        m.size += n;
    }
    if (std::ferror(in.get())) {
        throw Error(ErrorKind::other, 0, file.string() + " cannot be read: " + errno_text() + ".");
    }
    m.sha256 = sha.hex();
    return m;
}

// ---- what a data directory holds ----

/// Only these names are written and accepted, so no member can land outside the data
/// directory or over server.key.
bool valid_member_name(const std::string& name) {
    if (name == kDatabase || name == kCheckpoints || name == kHistory) return true;
    const std::string prefix = "edge/", suffix = ".db";
    if (name.size() <= prefix.size() + suffix.size() || name.size() > 90) return false;
    if (!name.starts_with(prefix) || !name.ends_with(suffix)) return false;
    std::string_view tag(name.data() + prefix.size(), name.size() - prefix.size() - suffix.size());
    return std::all_of(tag.begin(), tag.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

bool is_database(const std::string& name) { return name.ends_with(".db"); }

/// The databases of `data_dir` in the order a backup takes them: ariadne.db first (the
/// mailbox), then the edge history and the edge accounts' Signal stores.
std::vector<std::string> databases_in(const fs::path& data_dir) {
    std::vector<std::string> names;
    if (fs::is_regular_file(data_dir / kDatabase)) names.push_back(kDatabase);
    if (fs::is_regular_file(data_dir / kHistory)) names.push_back(kHistory);
    std::vector<std::string> stores;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(data_dir / "edge", ec)) {
        std::string name = "edge/" + entry.path().filename().string();
        if (entry.is_regular_file() && name != kHistory && is_database(name) &&
            valid_member_name(name)) {
            stores.push_back(name);
        }
    }
    std::sort(stores.begin(), stores.end());
    names.insert(names.end(), stores.begin(), stores.end());
    return names;
}

// ---- the manifest ----

std::string manifest_json(const BackupManifest& m) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& member : m.members) {
        members.push_back(
            {{"name", member.name}, {"size", member.size}, {"sha256", member.sha256}});
    }
    return nlohmann::json({{"format", kFormatName},
                           {"format_version", m.format_version},
                           {"created_at", m.created_at},
                           {"schema_version", m.schema_version},
                           {"ariadne_version", m.ariadne_version},
                           {"ariadne_commit", m.ariadne_commit},
                           {"members", members}})
               .dump(2) +
           "\n";
}

[[noreturn]] void damaged(const std::string& why) {
    throw Error(ErrorKind::corrupt, 0, "The backup file is damaged: " + why + ".");
}

BackupManifest parse_manifest(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
        damaged("its manifest is not valid JSON");
    }
    BackupManifest m;
    try {
        if (j.at("format").get<std::string>() != kFormatName) {
            damaged("its manifest is not an Ariadne backup manifest");
        }
        m.format_version = j.at("format_version").get<int>();
        if (m.format_version > kBackupFormatVersion || m.format_version < 1) {
            throw Error(ErrorKind::schema, 0,
                        "The backup file is in format version " + std::to_string(m.format_version) +
                            "; this ariadne reads version " + std::to_string(kBackupFormatVersion) +
                            ".");
        }
        m.created_at = j.at("created_at").get<std::string>();
        m.schema_version = j.at("schema_version").get<std::int64_t>();
        m.ariadne_version = j.value("ariadne_version", std::string());
        m.ariadne_commit = j.value("ariadne_commit", std::string());
        std::set<std::string> names;
        for (const auto& member : j.at("members")) {
            BackupMember b{member.at("name").get<std::string>(),
                           member.at("size").get<std::uint64_t>(),
                           member.at("sha256").get<std::string>()};
            if (!valid_member_name(b.name)) {
                damaged("its manifest lists a member with the name '" + b.name +
                        "', which a backup never holds");
            }
            if (!names.insert(b.name).second) damaged("its manifest lists " + b.name + " twice");
            if (b.sha256.size() != 64) damaged("its manifest has no SHA-256 for " + b.name);
            m.members.push_back(std::move(b));
        }
        if (!names.count(kDatabase)) damaged("its manifest lists no ariadne.db");
    } catch (const nlohmann::json::exception&) {
        damaged("its manifest lacks a field or has one of the wrong type");
    }
    return m;
}

// ---- backup steps ----

void snapshot(const fs::path& source, const fs::path& target) {
    // read_write without WAL: VACUUM INTO is refused on a query_only connection, and opening
    // changes no persistent setting of the live file.
    ConnectionOptions options;
    options.mode = OpenMode::read_write;
    options.wal = false;
    Connection db(source, options);
    create_private(target);  // VACUUM INTO fills an empty file and keeps its mode
    db.prepare("VACUUM INTO ?").bind(1, target.string()).run();
}

// ---- restore steps ----

void check_database(const fs::path& file, const std::string& name) {
    ConnectionOptions options;
    options.mode = OpenMode::read_only;
    options.wal = false;
    Connection db(file, options);
    auto integrity = db.prepare("PRAGMA integrity_check");
    while (integrity.step()) {
        std::string line = integrity.text(0);
        if (line != "ok") {
            throw Error(ErrorKind::corrupt, 0,
                        "the database " + name + " fails integrity_check: " + line + ".");
        }
    }
    auto foreign = db.prepare("PRAGMA foreign_key_check");
    if (foreign.step()) {
        throw Error(ErrorKind::constraint, 0,
                    "the database " + name + " fails foreign_key_check: a row of " +
                        foreign.text(0) + " refers to a missing row of " + foreign.text(2) + ".");
    }
}

fs::path make_unique_dir(const fs::path& base) {
    for (int i = 1; i < 100; ++i) {
        fs::path dir = i == 1 ? base : fs::path(base.string() + "-" + std::to_string(i));
        if (::mkdir(dir.c_str(), 0700) == 0) return dir;
        if (errno != EEXIST) break;
    }
    throw Error(ErrorKind::other, 0,
                "The directory " + base.string() + " cannot be created: " + errno_text() + ".");
}

/// Moves the current databases of `data_dir` (with their -wal, -shm and -journal files, which
/// belong to them) and its audit checkpoints aside, then the staged members into place.
/// Undoes what it did if a rename fails.
fs::path swap_in(const fs::path& data_dir, const fs::path& staged, const BackupManifest& m) {
    std::set<std::string> bases;
    for (const auto& name : databases_in(data_dir)) bases.insert(name);
    for (const auto& member : m.members) bases.insert(member.name);
    bases.insert(kCheckpoints);
    std::vector<std::string> current;
    for (const auto& base : bases) {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            std::string name = base + suffix;
            if (fs::exists(fs::symlink_status(data_dir / name))) current.push_back(name);
        }
    }

    fs::path previous;
    std::vector<std::pair<fs::path, fs::path>> moved;  // (from, to), to undo
    auto move = [&moved](const fs::path& from, const fs::path& to) {
        fs::rename(from, to);
        moved.emplace_back(from, to);
    };
    try {
        if (!current.empty()) {
            previous = make_unique_dir(data_dir / ("before-restore-" + utc_text("%Y%m%dT%H%M%SZ")));
            for (const auto& name : current) {
                if (name.starts_with("edge/")) make_private_dir(previous / "edge");
                move(data_dir / name, previous / name);
            }
        }
        for (const auto& member : m.members) {
            if (member.name.starts_with("edge/")) make_private_dir(data_dir / "edge");
            move(staged / member.name, data_dir / member.name);
        }
        fsync_dir(data_dir);
        fsync_dir(data_dir / "edge");
        if (!previous.empty()) {
            fsync_dir(previous);
            fsync_dir(previous / "edge");
        }
    } catch (const std::exception& e) {
        bool undone = true;
        for (auto it = moved.rbegin(); it != moved.rend(); ++it) {
            std::error_code ec;
            fs::rename(it->second, it->first, ec);
            if (ec) undone = false;
        }
        throw Error(ErrorKind::other, 0,
                    std::string(e.what()) +
                        (undone ? ". The previous databases were put back."
                                : ". Some previous databases could not be put back: they are in " +
                                      previous.string() + "."));
    }
    return previous;
}

}  // namespace

std::int64_t stored_schema_version(Connection& db) { return schema_version(db); }

std::int64_t newest_known_schema_version() { return latest_schema_version(main_migrations()); }

BackupResult create_backup(const fs::path& data_dir, const fs::path& to,
                           const BackupOptions& options) {
    const char* op = "The backup";
    fs::path dir = to.parent_path().empty() ? fs::path(".") : to.parent_path();
    at_step(op, "check the target", [&] {
        if (fs::is_directory(to)) {
            throw Error(ErrorKind::other, 0, to.string() + " is a directory.");
        }
        if (fs::exists(fs::symlink_status(to)) && !options.force) {
            throw Error(ErrorKind::constraint, 0,
                        to.string() + " exists; pass --force to replace it. Nothing was written.");
        }
        if (!fs::is_directory(dir)) {
            throw Error(ErrorKind::other, 0, "the directory " + dir.string() + " does not exist.");
        }
        if (!fs::is_regular_file(data_dir / kDatabase)) {
            throw Error(ErrorKind::other, 0,
                        "there is no Ariadne database (ariadne.db) in " + data_dir.string() + ".");
        }
    });
    auto staging = at_step(op, "create a staging directory",
                           [&] { return std::make_unique<StagingDir>(dir, ".ariadne-backup-"); });
    const fs::path& stage = staging->path();

    BackupManifest manifest;
    manifest.format_version = kBackupFormatVersion;
    manifest.created_at = utc_text("%Y-%m-%dT%H:%M:%SZ");
    manifest.ariadne_version = gateway::build_version();
    manifest.ariadne_commit = gateway::build_commit();
    std::vector<std::string> names;
    // Before the databases: every checkpoint in the copy then lies within the copied chain.
    if (fs::is_regular_file(data_dir / kCheckpoints)) {
        at_step(op, "copy audit-checkpoints",
                [&] { copy_private(data_dir / kCheckpoints, stage / kCheckpoints); });
        names.push_back(kCheckpoints);
    }
    for (const auto& name : databases_in(data_dir)) {
        at_step(op, "snapshot " + name, [&] {
            if (name.starts_with("edge/")) make_private_dir(stage / "edge");
            snapshot(data_dir / name, stage / name);
        });
        names.push_back(name);
    }
    manifest.schema_version = at_step(op, "read the schema version", [&] {
        ConnectionOptions read;
        read.mode = OpenMode::read_only;
        read.wal = false;
        Connection db(stage / kDatabase, read);
        return stored_schema_version(db);
    });
    for (const auto& name : names) {
        manifest.members.push_back(
            at_step(op, "checksum " + name, [&] { return describe(stage / name, name); }));
    }

    const fs::path assembled = stage / "backup.tar";
    at_step(op, "write the backup file", [&] {
        File out = create_private(assembled);
        ustar::Writer writer(out.get());
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        writer.add(kManifestName, manifest_json(manifest), now);
        for (const auto& member : manifest.members) {
            File in = open_read(stage / member.name);
            writer.add(member.name, member.size, in.get(), now);
        }
        writer.finish();
        close_durably(std::move(out), assembled);
    });
    BackupResult result;
    result.size = fs::file_size(assembled);
    result.manifest = std::move(manifest);
    at_step(op, "put the backup file in place", [&] {
        if (options.force) {
            fs::rename(assembled, to);
        } else if (::link(assembled.c_str(), to.c_str()) != 0) {
            // link(2) never replaces: a file that appeared meanwhile is not overwritten.
            throw Error(
                ErrorKind::other, 0,
                to.string() + " cannot be created: " + errno_text() + ". Nothing was written.");
        }
        fsync_dir(dir);
    });
    return result;
}

BackupManifest unpack_backup(const fs::path& from, const fs::path& into) {
    File in = open_read(from);
    ustar::Reader reader(in.get());
    auto first = reader.next();
    if (!first || first->name != kManifestName) {
        damaged("it does not begin with manifest.json (is it an Ariadne backup?)");
    }
    if (first->size > kMaxManifestBytes) damaged("its manifest is too large");
    std::string text(static_cast<std::size_t>(first->size), '\0');
    if (reader.read(text.data(), text.size()) != text.size()) damaged("its manifest is cut short");
    BackupManifest manifest = parse_manifest(text);

    std::set<std::string> seen;
    while (auto entry = reader.next()) {
        auto listed = std::find_if(manifest.members.begin(), manifest.members.end(),
                                   [&](const BackupMember& m) { return m.name == entry->name; });
        if (listed == manifest.members.end()) {
            damaged("it holds a member '" + entry->name + "' that its manifest does not list");
        }
        if (!seen.insert(entry->name).second) damaged("it holds " + entry->name + " twice");
        if (entry->size != listed->size) {
            damaged("the member " + entry->name + " has " + std::to_string(entry->size) +
                    " bytes but its manifest says " + std::to_string(listed->size));
        }
        if (entry->name.starts_with("edge/")) make_private_dir(into / "edge");
        const fs::path target = into / entry->name;
        File out = create_private(target);
        Sha256 sha;
        std::array<char, 1 << 16> buf;
        while (std::size_t n = reader.read(buf.data(), buf.size())) {
            sha.update(buf.data(), n);
            if (std::fwrite(buf.data(), 1, n, out.get()) != n) {
                throw Error(ErrorKind::full, 0,
                            target.string() + " cannot be written: " + errno_text() + ".");
            }
        }
        close_durably(std::move(out), target);
        if (sha.hex() != listed->sha256) {
            throw Error(ErrorKind::corrupt, 0,
                        "The member " + entry->name +
                            " does not match its SHA-256 in the manifest: the backup is damaged.");
        }
    }
    for (const auto& member : manifest.members) {
        if (!seen.count(member.name)) damaged("the member " + member.name + " is missing");
    }
    fsync_dir(into);
    return manifest;
}

RestoreResult restore_backup(const fs::path& data_dir, const fs::path& from,
                             const RestoreOptions& options) {
    const char* op = "The restore";
    at_step(op, "open the data directory", [&] {
        if (!fs::is_directory(data_dir)) {
            throw Error(ErrorKind::other, 0,
                        data_dir.string() +
                            " is not a directory: create it (mode 0700) and copy the server "
                            "key of the gateway that made the backup into it.");
        }
    });
    // Held to the end: no gateway starts on the directory while its files are swapped.
    auto lock = at_step(
        op, "lock the data directory",
        [&] { return std::make_unique<DataDirLock>(DataDirLock::acquire(data_dir)); }, kUnchanged);
    auto staging = at_step(
        op, "create a staging directory",
        [&] { return std::make_unique<StagingDir>(data_dir, ".restore-"); }, kUnchanged);
    const fs::path& stage = staging->path();

    RestoreResult result;
    result.manifest = at_step(
        op, "unpack and check the checksums", [&] { return unpack_backup(from, stage); },
        kUnchanged);
    for (const auto& member : result.manifest.members) {
        if (!is_database(member.name)) continue;
        at_step(
            op, "check " + member.name, [&] { check_database(stage / member.name, member.name); },
            kUnchanged);
    }
    at_step(
        op, "check the schema version",
        [&] {
            ConnectionOptions read;
            read.mode = OpenMode::read_only;
            read.wal = false;
            Connection db(stage / kDatabase, read);
            std::int64_t version = stored_schema_version(db);
            if (version != result.manifest.schema_version) {
                damaged("its manifest says schema version " +
                        std::to_string(result.manifest.schema_version) + " but ariadne.db has " +
                        std::to_string(version));
            }
            if (version > options.newest_schema_version) {
                throw Error(ErrorKind::schema, 0,
                            "the backup's schema version " + std::to_string(version) +
                                " is newer than this ariadne's (" +
                                std::to_string(options.newest_schema_version) +
                                "): restore it with a release that knows schema version " +
                                std::to_string(version) + ".");
            }
        },
        kUnchanged);
    if (options.verify)
        at_step(
            op, options.verify_step, [&] { options.verify(stage); }, kUnchanged);
    result.previous = at_step(op, "put the restored databases in place",
                              [&] { return swap_in(data_dir, stage, result.manifest); });
    return result;
}

}  // namespace ariadne::storage
