#!/usr/bin/env python3
"""Where a run spends its time inside the code cache, from perf samples and memcheck's trace.

usage:
  MEMCHECK_TRACE=1 perf record -F 999 -o run.data .build/memcheck/memcheck [OPTIONS] -- PROGRAM ... 2>trace.txt
  bench/tools/cache-profile.py trace.txt run.data [--fragments N] [--forms N] [--kinds]

perf sees the code cache as anonymous JIT code; MEMCHECK_TRACE=1 makes memcheck print every
routine and fragment it writes ("memcheck-trace: fragment S-E at ADDR+LEN HEX"), so each sample's
address maps to the fragment (guest range S-E) or routine that holds it. Printed:
  - the samples' shares: fragments, each routine, memcheck's own code, the kernel;
  - how concentrated the fragments' samples are (the hottest 10/100/1000 fragments);
  - with --fragments N, the N hottest fragments disassembled with samples per instruction;
  - with --forms N, the N instruction forms (addresses replaced by N) that hold the most samples,
    and the forms just before them (a sampled instruction often waits on the one before it).
  - with --kinds (the trace made with MEMCHECK_CODE_PROFILE=1 too, which prints "memcheck-trace:
    kind K at ADDR+LEN" for each stretch of instrumentation), the fragments' samples by what emitted
    the sampled instruction and by what emitted the one before it (a sample often lands just after
    the instruction that stalled); a fragment's bytes in no such range are the engine's (the
    application's instructions, lookups, exits).
  - with --kind-forms KIND N (trace made as for --kinds), the N forms with the most samples among
    the fragments' bytes of that kind ('engine' for the bytes of none), with the form before each;
  - with --routine-forms PREFIX N, the same over the routines whose name starts with PREFIX, summed
    ('stub of site': every stub made on a site's first run; 'the call shadow routines').
Not run by CI.
"""
import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
import tempfile

KIND_LINE = re.compile(r'memcheck-trace: kind (\w+) at 0x([0-9a-f]+)\+(\d+)')
TRACE_LINE = re.compile(r'memcheck-trace: (fragment|routine) (.*?) at 0x([0-9a-f]+)\+(\d+) ([0-9A-F]+)')
OBJDUMP_LINE = re.compile(r'\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*(.*)')


def read_trace(path):
    pieces = []
    with open(path, errors='replace') as trace:
        for line in trace:
            m = TRACE_LINE.match(line)
            if m:
                pieces.append((int(m.group(3), 16), int(m.group(4)), m.group(1), m.group(2), m.group(5)))
    pieces.sort()
    return pieces


def read_samples(perf_data):
    out = subprocess.run(['perf', 'script', '-i', perf_data, '-F', 'ip,dso'],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        try:
            ip = int(fields[0], 16)
        except ValueError:
            continue
        yield ip, fields[1]


def disassemble(address, hex_bytes):
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(bytes.fromhex(hex_bytes))
        f.flush()
        out = subprocess.run(['objdump', '-D', '-b', 'binary', '-mi386:x86-64', f'--adjust-vma={address:#x}', f.name],
                             capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = OBJDUMP_LINE.match(line)
        if m and m.group(3):
            yield int(m.group(1), 16), m.group(2).strip(), m.group(3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('trace')
    parser.add_argument('perf_data')
    parser.add_argument('--fragments', type=int, default=0, help='disassemble the N hottest fragments')
    parser.add_argument('--forms', type=int, default=0, help='the N instruction forms with the most samples')
    parser.add_argument('--kinds', action='store_true', help='samples by the kind of instrumentation that emitted them')
    parser.add_argument('--kind-forms', nargs=2, metavar=('KIND', 'N'),
                        help="the N forms with the most samples within instrumentation of KIND ('engine': the rest)")
    parser.add_argument('--routine-forms', nargs=2, metavar=('PREFIX', 'N'),
                        help='the N forms with the most samples within the routines named PREFIX...')
    parser.add_argument('--guest-lengths', type=int, default=0,
                        help='the N guest code lengths whose fragments hold the most samples (6 bytes: PLT stubs)')
    args = parser.parse_args()

    pieces = read_trace(args.trace)
    if not pieces:
        sys.exit(f'cache-profile: no memcheck-trace lines in {args.trace} (run with MEMCHECK_TRACE=1)')
    starts = [p[0] for p in pieces]
    total = 0
    shares = collections.Counter()
    by_piece = collections.defaultdict(collections.Counter)
    for ip, dso in read_samples(args.perf_data):
        total += 1
        i = bisect.bisect_right(starts, ip) - 1
        if i >= 0 and ip < pieces[i][0] + pieces[i][1]:
            kind, name = pieces[i][2], pieces[i][3]
            # Stubs and hit paths made on first run (LazyStubs, LazyHits) are traced one routine each: counted together.
            shares['fragments' if kind == 'fragment' else 'routine: stubs made on first run' if name.startswith('stub of site ')
                   else 'routine: hit paths made on first run' if name.startswith('hit of site ')
                   else f'routine: {name}'] += 1
            by_piece[i][ip] += 1
        else:
            shares[os.path.basename(dso.strip('()'))] += 1
    print(f'{total} samples')
    for name, n in shares.most_common(15):
        print(f'{n:8d} {100 * n / total:5.1f}%  {name}')

    fragment_counts = sorted(((sum(c.values()), i) for i, c in by_piece.items() if pieces[i][2] == 'fragment'), reverse=True)
    in_fragments = sum(n for n, _ in fragment_counts) or 1
    print(f'{len(fragment_counts)} of {sum(1 for p in pieces if p[2] == "fragment")} fragments sampled; the hottest hold:')
    for top in (10, 100, 1000):
        print(f'  {top:5d}: {100 * sum(n for n, _ in fragment_counts[:top]) / in_fragments:5.1f}% of the fragments\' samples')

    for n, i in fragment_counts[:args.fragments]:
        start, length, _, name, hex_bytes = pieces[i]
        print(f'\n== fragment {name} at {start:#x}+{length}: {n} samples')
        for address, raw, text in disassemble(start, hex_bytes):
            print(f'{by_piece[i].get(address, 0):5d}  {address:x}: {text}')

    if args.kinds:
        print_kinds(args.trace, pieces, by_piece, total)

    if args.kind_forms:
        kind, count = args.kind_forms[0], int(args.kind_forms[1])
        kind_of = kind_lookup(read_kinds(args.trace))
        print_forms(f'fragment bytes of kind {kind}', pieces, by_piece, total, count,
                    lambda piece: piece[2] == 'fragment', lambda address: kind_of(address) == kind)

    if args.routine_forms:
        prefix, count = args.routine_forms[0], int(args.routine_forms[1])
        print_forms(f'routines named {prefix}...', pieces, by_piece, total, count,
                    lambda piece: piece[2] == 'routine' and piece[3].startswith(prefix), lambda address: True)

    if args.guest_lengths:
        # Structural costs show up as many small fragments of one shape (PLT stubs: `jmp [rip+GOT]`).
        lengths = collections.Counter()
        for n, i in fragment_counts:
            first, last = pieces[i][3].split()[0].split('-')
            lengths[int(last, 16) - int(first, 16)] += n
        print('\nsamples by the guest code length of their fragment:')
        for length, n in lengths.most_common(args.guest_lengths):
            print(f'{n:8d} {100 * n / total:5.1f}%  {length} bytes')

    if args.forms:
        forms, before = collections.Counter(), collections.Counter()
        for i, counts in by_piece.items():
            if pieces[i][2] != 'fragment':
                continue
            previous = None
            for address, _, text in disassemble(pieces[i][0], pieces[i][4]):
                form = re.sub(r'0x[0-9a-f]+', 'N', text.split('#')[0].strip())
                if address in counts:
                    forms[form] += counts[address]
                    if previous:
                        before[previous] += counts[address]
                previous = form
        print('\nsamples by instruction form:')
        for form, n in forms.most_common(args.forms):
            print(f'{n:8d} {100 * n / total:5.1f}%  {form}')
        print('\nsamples by the form just before:')
        for form, n in before.most_common(args.forms):
            print(f'{n:8d} {100 * n / total:5.1f}%  {form}')


def read_kinds(path):
    ranges = []
    with open(path, errors='replace') as trace:
        for line in trace:
            m = KIND_LINE.match(line)
            if m:
                ranges.append((int(m.group(2), 16), int(m.group(3)), m.group(1)))
    ranges.sort()
    return ranges


def kind_lookup(ranges):
    """The kind of the instrumentation at an address ('engine' outside every kind's range)."""
    if not ranges:
        sys.exit('cache-profile: no memcheck-trace kind lines (run with MEMCHECK_CODE_PROFILE=1 too)')
    starts = [r[0] for r in ranges]

    def kind_of(address):
        i = bisect.bisect_right(starts, address) - 1
        return ranges[i][2] if i >= 0 and address < ranges[i][0] + ranges[i][1] else 'engine'
    return kind_of


def print_forms(title, pieces, by_piece, total, count, piece_wanted, address_wanted):
    """Samples by instruction form (addresses as N) over the chosen pieces' chosen bytes, and the form before each."""
    forms, pairs = collections.Counter(), collections.Counter()
    for i, counts in by_piece.items():
        if not piece_wanted(pieces[i]):
            continue
        previous = None
        for address, _, text in disassemble(pieces[i][0], pieces[i][4]):
            form = re.sub(r'0x[0-9a-f]+', 'N', text.split('#')[0].strip())
            if address in counts and address_wanted(address):
                forms[form] += counts[address]
                pairs[(previous, form)] += counts[address]
            previous = form
    in_them = sum(forms.values())
    print(f'\n{in_them} samples ({100 * in_them / total:.1f}%) in {title}, by form:')
    for form, n in forms.most_common(count):
        print(f'{n:8d} {100 * n / total:5.1f}%  {form}')
    print('and by the pair (form before, form):')
    for (before, form), n in pairs.most_common(count):
        print(f'{n:8d} {100 * n / total:5.1f}%  {before}  ->  {form}')


def print_kinds(trace, pieces, by_piece, total):
    kind_of = kind_lookup(read_kinds(trace))

    at, before = collections.Counter(), collections.Counter()
    for i, counts in by_piece.items():
        if pieces[i][2] != 'fragment':
            continue
        previous = None
        for address, _, _ in disassemble(pieces[i][0], pieces[i][4]):
            if address in counts:
                at[kind_of(address)] += counts[address]
                before[kind_of(previous) if previous is not None else 'engine'] += counts[address]
            previous = address
    print('\nfragment samples by kind (of the sampled instruction / of the one before it):')
    for kind in sorted(set(at) | set(before), key=lambda k: -at[k]):
        print(f'{at[kind]:8d} {100 * at[kind] / total:5.1f}%  {before[kind]:8d} {100 * before[kind] / total:5.1f}%  {kind}')


if __name__ == '__main__':
    main()
