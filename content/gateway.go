package content

import "github.com/ipfs/boxo/blockservice"

// BlockService is the store-or-fetch block service under Node and GetBlock,
// for readers that work on blocks themselves, as boxo's gateway does. Its
// fetches go through Bitswap and land in the verifying blockstore, like any
// other fetch, unpinned. Calls on it are not tracked by Close: the caller
// stops using it before closing the Content (the node stops its shell
// first).
func (c *Content) BlockService() blockservice.BlockService { return c.bserv }
