// Command build makes kl's test images in the local Docker Engine
// (`make images`); see package images.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/test/images"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, refs []string) error {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := images.Ensure(ctx, cli, refs...); err != nil {
		return err
	}
	if len(refs) == 0 {
		for _, s := range images.All {
			refs = append(refs, s.Ref)
		}
	}
	for _, r := range refs {
		fmt.Println(r)
	}
	return nil
}
