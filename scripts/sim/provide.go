package main

import (
	"context"
	"errors"
	"io"
)

// runProvide compares the reproviders (see provide comparison).
func runProvide(ctx context.Context, cfg config, w io.Writer) error {
	return errors.New("not yet")
}
