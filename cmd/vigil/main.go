// Command vigil is the Vigil binary; see internal/cli.
package main

import (
	"os"

	"github.com/vigil-zt/vigil/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args)) }
