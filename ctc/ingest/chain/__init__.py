"""On-chain ingest (``ctc ingest --chain ethereum``): a JSON-RPC websocket client that
follows new blocks, reads their ERC-20 ``Transfer`` and Uniswap V2/V3 ``Swap`` logs once
they are ``confirmations`` deep, and lands them as on-chain events
(:data:`ctc.events.ONCHAIN_EVENT_FIELDS`); plus a local JSON-RPC replay server over real
recorded transfers. See docs/ingest.md, "On-chain ingest".
"""
