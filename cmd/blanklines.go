package main

import (
	"bufio"
	"os"
	"sync"
)

// dropBlankLines replaces os.Stdout and os.Stderr with pipes that pass every
// line through except empty ones. On Cloud Functions (K_SERVICE set)
// functions-framework prints an empty line to both after every request to
// flush the logs; every line this program writes must be a JSON object, so
// the local runner leaves those out. The returned function restores the
// originals and waits until everything written has been passed on.
func dropBlankLines() (restore func(), err error) {
	var wg sync.WaitGroup
	var undo []func()
	for _, target := range []**os.File{&os.Stdout, &os.Stderr} {
		original := *target
		r, w, err := os.Pipe()
		if err != nil {
			for _, u := range undo {
				u()
			}
			return nil, err
		}
		*target = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			scanner := bufio.NewScanner(r)
			scanner.Buffer(make([]byte, 64<<10), 1<<20)
			for scanner.Scan() {
				if line := scanner.Bytes(); len(line) > 0 {
					_, _ = original.Write(append(line, '\n'))
				}
			}
		}()
		undo = append(undo, func() {
			*target = original
			_ = w.Close()
		})
	}
	return func() {
		for _, u := range undo {
			u()
		}
		wg.Wait()
	}, nil
}
