"""Runs a zkworker settlement contract in py-evm (Prague rules), a second EVM implementation
beside the tests' revm, and reports what each transaction did.

Input (stdin, JSON): {"bytecode": "0x...", "chain_id": int, "timestamp": int,
"calls": [{"data": "0x...", "value": "wei"}, ...]}. The contract is deployed from a funded
account (secret key 0x0101...01), then each call is sent from it as a transaction. Output (stdout, JSON): one object per call, in order:
{"success": bool, "gas": int (the transaction's gas, intrinsic included), "output": "0x..."}.
"""

import json
import sys

from eth import constants
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.vm.forks import PragueVM
from eth_keys import keys

GAS_LIMIT = 16_000_000


def main():
    job = json.load(sys.stdin)
    key = keys.PrivateKey(b"\x01" * 32)
    sender = key.public_key.to_canonical_address()
    chain_class = MiningChain.configure(
        __name__="ZkwTestChain",
        vm_configuration=((constants.GENESIS_BLOCK_NUMBER, PragueVM),),
        chain_id=job["chain_id"],
    )
    genesis = {
        "difficulty": 0,
        "gas_limit": 30_000_000,
        "timestamp": job["timestamp"],
        "coinbase": constants.ZERO_ADDRESS,
        "extra_data": b"",
        "nonce": b"\x00" * 8,
    }
    state = {sender: {"balance": 10**30, "nonce": 0, "code": b"", "storage": {}}}
    chain = chain_class.from_genesis(AtomicDB(), genesis, state)

    def send(to, data, value=0):
        vm = chain.get_vm()
        tx = vm.create_unsigned_transaction(
            nonce=vm.state.get_nonce(sender),
            gas_price=10**10,
            gas=GAS_LIMIT,
            to=to,
            value=value,
            data=data,
        ).as_signed_transaction(key, chain_id=job["chain_id"])
        _, receipt, computation = chain.apply_transaction(tx)
        chain.mine_block()
        return receipt, computation

    receipt, computation = send(b"", bytes.fromhex(job["bytecode"].removeprefix("0x")))
    if computation.is_error:
        raise SystemExit(f"deployment failed: {computation.error!r}")
    address = computation.msg.storage_address
    out = []
    for call in job["calls"]:
        data = bytes.fromhex(call["data"].removeprefix("0x"))
        receipt, computation = send(address, data, int(call.get("value", "0")))
        out.append(
            {
                "success": not computation.is_error,
                "gas": receipt.gas_used,
                "output": "0x" + computation.output.hex(),
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
