// Command bench measures wsbridge side by side with the tools users would
// otherwise run (ser2net, socat, a hand-written Python bridge and a
// hand-written Node bridge, in bench/peers/) on the same input: the
// simulator's counter stream written into a fresh pty, at 48 kHz mono and
// flat out, to 1, 10 and 100 consumers; and the counter as text lines (a
// plain Serial.println sketch) at 1000 and 48000 lines/s, to 1 and 10
// consumers. It writes docs/benchmarks-peers.md and docs/img/latency-cdf.svg.
//
//	go run ./bench --quick   # under a minute
//	go run ./bench           # the full run, under 15 minutes
//	go run ./bench --workloads text1k,text48k --systems wsbridge,ser2net \
//	    --baseline /tmp/wsbridge-old --out /tmp/ab.md   # before/after a change
//
// With --scale channels|idle|envelope it measures wsbridge alone at scale
// instead (bench/scale.go: 50 channels, idle channels, 1000 envelope
// clients), serve in its own process and the load generator in this one,
// and prints a table for docs/benchmarks.md.
//
// Systems run interleaved (A B C A B C ...) and the report gives medians
// over repetitions and ratios wsbridge/peer: the machine is shared and
// noisy, so ratios are the claim. Network only on 127.0.0.1.
//
// The bench runs on Linux only: it drives ptys, process groups,
// Pdeathsig, SIGUSR1 and /proc. Its files carry a linux build constraint;
// elsewhere the command only says so (main_other.go), so that cross
// builds of ./... still pass.
package main
