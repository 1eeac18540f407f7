"""Summarizes `perf script -F comm,tid,ip,sym,dso` output of one .NET process: CPU samples by thread, by the kind
of the leaf frame, and by the innermost library on the stack."""
import collections
import re
import sys

LIBRARIES = [
    ("Refit", r"\[Refit\]|Refit\."),
    ("System.Text.Json", r"System\.Text\.Json"),
    ("StackExchange.Redis", r"StackExchange\.Redis|RESPite"),
    ("System.Net.Http and sockets", r"System\.Net\.(Http|Sockets|Security)"),
    ("logging and metrics", r"Microsoft\.Extensions\.(Logging|Diagnostics)|System\.Diagnostics\.Metrics|OpenTelemetry"),
    ("Bot.* (the product's code)", r"\[Bot\."),
    ("RedLock", r"RedLock"),
]


def leaf_kind(frame):
    if "kernel.kallsyms" in frame:
        return "kernel (sockets, scheduling)"
    if "libclrjit" in frame:
        return "JIT compiler"
    if "libcoreclr" in frame:
        return "runtime (GC, stubs, type system)"
    if re.search(r"libc\.so|ld-linux|vdso", frame):
        return "libc"
    return "managed code"


def owner(thread, frames):
    if "Tiered Com" in thread:
        return "tiered JIT compilation (its own thread)"
    for frame in frames:
        for name, pattern in LIBRARIES:
            if re.search(pattern, frame):
                return name
    return "thread pool and async plumbing"


def main(path):
    samples = [s for s in open(path, encoding="utf-8", errors="replace").read().split("\n\n") if s.strip()]
    threads, leaves, owners = collections.Counter(), collections.Counter(), collections.Counter()
    for sample in samples:
        lines = sample.split("\n")
        thread = re.sub(r"\s+\d+\s*$", "", lines[0]).strip()
        frames = [line.strip() for line in lines[1:] if line.strip()]
        threads[re.sub(r"\s*\d+$", "", thread)] += 1
        leaves[leaf_kind(frames[0] if frames else "")] += 1
        owners[owner(thread, frames)] += 1
    print(f"{len(samples)} samples")
    for title, counter in (("by thread", threads), ("by leaf frame", leaves), ("by innermost library on the stack", owners)):
        print(f"\n{title}:")
        for key, n in counter.most_common(10):
            print(f"  {n / len(samples) * 100:5.1f} %  {key}")


if __name__ == "__main__":
    main(sys.argv[1])
