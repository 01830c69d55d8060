#!/usr/bin/env python3
"""Convert the hpack-test-case JSON stories into the compact form committed in
tests/fixtures/hpack-test-case/ and read by tests/unit/test_hpack.c.

Usage: python3 scripts/convert-hpack-stories.py [SRC_DIR [DST_DIR]]
  SRC_DIR  a checkout of github.com/http2jp/hpack-test-case
           (default: /work/shared/fixtures/hpack-test-case)
  DST_DIR  default: tests/fixtures/hpack-test-case

For each implementation directory (every one but raw-data, which has no
wire), writes DST_DIR/<impl>.txt.zst: the text below compressed with the zstd
command, and copies LICENSE and SOURCE verbatim.  The text is one record a
line, fields separated by one space:

  stories <impl> <number of stories>
  story <file name without .json> <number of cases>
  case <seqno> <header_table_size, or - when absent or null>
  wire <the header block in lowercase hex, possibly empty>
  h <name> <value>                  one line per header, in order
  end <stories> <cases> <headers>   totals, checked by the reader

Names and values are the UTF-8 bytes of the JSON strings with every byte
outside 0x21..0x7e, and '%', written as %XX (uppercase hex), so any byte
string round-trips and an empty value is an empty field at the end of the
line.  Standard library and the zstd command only; the output is
deterministic.
"""
import json
import os
import shutil
import subprocess
import sys

IMPLS = ["go-hpack", "haskell-http2-static", "nghttp2", "python-hpack", "swift-nio-hpack-huffman"]


def escape(s):
    out = []
    for b in s.encode("utf-8"):
        if 0x21 <= b <= 0x7E and b != 0x25:
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def convert(src, impl):
    names = sorted(n for n in os.listdir(os.path.join(src, impl)) if n.endswith(".json"))
    lines = ["stories %s %d" % (impl, len(names))]
    ncases = nheaders = 0
    for name in names:
        with open(os.path.join(src, impl, name), encoding="utf-8") as f:
            story = json.load(f)
        cases = story["cases"]
        lines.append("story %s %d" % (name[:-5], len(cases)))
        for case in cases:
            size = case.get("header_table_size")
            wire = case["wire"].lower()
            bytes.fromhex(wire)  # validate
            lines.append("case %d %s" % (case["seqno"], "-" if size is None else "%d" % size))
            lines.append("wire " + wire)
            for header in case["headers"]:
                if len(header) != 1:
                    sys.exit("%s/%s: a header object with %d members" % (impl, name, len(header)))
                (k, v), = header.items()
                lines.append("h %s %s" % (escape(k), escape(v)))
                nheaders += 1
            ncases += 1
    lines.append("end %d %d %d" % (len(names), ncases, nheaders))
    return "\n".join(lines) + "\n", (len(names), ncases, nheaders)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/fixtures/hpack-test-case"
    dst = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/hpack-test-case"
    os.makedirs(dst, exist_ok=True)
    for impl in IMPLS:
        text, counts = convert(src, impl)
        out = os.path.join(dst, impl + ".txt.zst")
        # -19 --long: the stories repeat the same headers, often far apart.
        subprocess.run(["zstd", "-q", "-f", "-19", "--long=24", "-o", out], input=text.encode("ascii"), check=True)
        print("%s: %d stories, %d cases, %d headers -> %s (%d bytes)" % (impl, *counts, out, os.path.getsize(out)))
    for name in ("LICENSE", "SOURCE"):
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))


if __name__ == "__main__":
    main()
