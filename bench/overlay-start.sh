#!/usr/bin/env bash
# bench/overlay-start.sh [RUNS]: a container start on an overlay network
# beside one on a bridge network of the same host, and a host's first
# container on the overlay network (its join), hyperfine RUNS runs each
# (default 30). The hosts and etcd are bench/overlay.sh's; see its
# start_bench.
MODE=start exec "$(dirname "$0")/overlay.sh" "$@"
