//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/wifi runs on Linux only (it reads /proc)")
	os.Exit(2)
}
