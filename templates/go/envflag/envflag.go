// Package envflag reads command-line flags with the environment as
// fallback: -http-addr is also PREFIX_HTTP_ADDR. Flags win.
package envflag

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Parse parses args into fs, then sets each flag the command line did not
// from its environment variable, prefix + "_" + the flag's name in upper
// case with '-' as '_'. A variable that does not parse is an error naming it.
func Parse(fs *flag.FlagSet, args []string, prefix string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := Var(prefix, f.Name)
		if value, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, value); e != nil {
				err = fmt.Errorf("invalid value %q for %s: %v", value, name, e)
			}
		}
	})
	return err
}

// Var is the environment variable of flag name.
func Var(prefix, name string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
