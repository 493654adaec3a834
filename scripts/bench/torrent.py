#!/usr/bin/env python3
"""Drives libtorrent-rasterbar (Debian's python3-libtorrent) for scripts/bench.

Three roles, each a process of its own so that the bench can meter the CPU
of the seeder and the downloader apart:

  torrent.py make FILE TORRENT       a v2 torrent of FILE, 1 MiB pieces
  torrent.py seed TORRENT DIR [--tuned]
        seeds DIR/<name>; prints "port N" once listening on 127.0.0.1,
        then runs until stdin closes
  torrent.py fetch TORRENT DIR PORT [--tuned]
        downloads into DIR from the seeder at 127.0.0.1:PORT; prints
        "first S" (seconds to the first piece) and "done S" (seconds from
        add_torrent to every piece verified and written)

Both peers are on loopback with TCP only: no DHT, local discovery, UPnP,
NAT-PMP, uTP or tracker (the downloader connects to the seeder itself).
Storage is libtorrent's default (memory-mapped files, no fsync). --tuned
raises the limits its defaults hit on this machine: the disk queue, the
request queue and the send buffers.
"""

import sys
import time

import libtorrent as lt

PIECE = 1 << 20

TUNED = {
    "max_queued_disk_bytes": 16 << 20,
    "max_out_request_queue": 2000,
    "send_buffer_watermark": 16 << 20,
    "send_buffer_low_watermark": 1 << 20,
    "send_buffer_watermark_factor": 150,
}


def session(tuned):
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "alert_mask": lt.alert_category.status | lt.alert_category.error,
    }
    if tuned:
        settings.update(TUNED)
    return lt.session(settings)


def make(path, out):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    t = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v2_only)
    parent = path.rsplit("/", 1)[0] or "."
    lt.set_piece_hashes(t, parent)
    with open(out, "wb") as f:
        f.write(lt.bencode(t.generate()))


def seed(torrent, directory, tuned):
    ses = session(tuned)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = directory
    # The data is known good: pieces are hashed as they are first sent,
    # not all before the first (as Cairn hashes what it serves).
    atp.flags |= lt.torrent_flags.seed_mode
    ses.add_torrent(atp)
    print("port", ses.listen_port(), flush=True)
    sys.stdin.read()


def fetch(torrent, directory, port, tuned):
    ses = session(tuned)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = directory
    start = time.monotonic()
    h = ses.add_torrent(atp)
    h.connect_peer(("127.0.0.1", port))
    first = None
    while True:
        st = h.status()
        if first is None and st.num_pieces > 0:
            first = time.monotonic() - start
            print("first", first, flush=True)
        if st.is_finished or st.is_seeding:
            break
        if st.errc.value() != 0:
            sys.exit("libtorrent: " + st.errc.message())
        if time.monotonic() - start > 600:
            sys.exit("libtorrent: no progress in 10 minutes")
        ses.wait_for_alert(50)
        ses.pop_alerts()
    done = time.monotonic() - start
    if first is None:
        print("first", done, flush=True)
    print("done", done, flush=True)


def main(args):
    tuned = "--tuned" in args
    args = [a for a in args if a != "--tuned"]
    if args[:1] == ["make"] and len(args) == 3:
        make(args[1], args[2])
    elif args[:1] == ["seed"] and len(args) == 3:
        seed(args[1], args[2], tuned)
    elif args[:1] == ["fetch"] and len(args) == 4:
        fetch(args[1], args[2], int(args[3]), tuned)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
