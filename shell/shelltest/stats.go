package shelltest

import "github.com/cairnnet/cairn/shell"

// BitswapStats implements shell.ExchangeStatsBackend: it reports
// b.Bitswap, or fails with b.BitswapErr.
func (b *Backend) BitswapStats() (shell.BitswapStats, error) {
	if b.BitswapErr != nil {
		return shell.BitswapStats{}, b.BitswapErr
	}
	return b.Bitswap, nil
}

// FastPathStats implements shell.ExchangeStatsBackend: it reports
// b.FastPath.
func (b *Backend) FastPathStats() shell.FastPathStats { return b.FastPath }
