//! An in-memory EVM (revm, Osaka rules) to deploy the rendered contracts and call them.

use alloy_sol_types::SolCall;
use revm::context::result::{ExecutionResult, Output};
use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::handler::{EthPrecompiles, MainnetContext, MainnetEvm};
use revm::precompile::{Precompile, Precompiles, bn254};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, TxKind, U256};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

/// The account every transaction but deployments comes from (gas is free: price and base fee
/// are zero); it holds ether for request deposits.
pub const CALLER: Address = Address::repeat_byte(0xca);

/// The account py-evm deploys and sends from (the address of secret key 0x0101…01); funded
/// here too, so the same transactions run in both EVMs.
pub const PYEVM_SENDER: Address =
    revm::primitives::address!("1a642f0e3c3af545e7acbd38b07251b3990914f1");

/// The chain id: py-evm's test chain's, so the same receipts (whose venue names the chain)
/// settle in both EVMs.
pub const CHAIN_ID: u64 = 1337;

/// The time of the chain's blocks until [`Chain::set_time`] moves it.
pub const GENESIS_TIME: u64 = 1_700_000_000;

/// Enough for any call here, under Osaka's per-transaction cap (2^24).
const GAS_LIMIT: u64 = 16_000_000;

/// What a call did.
#[derive(Debug)]
pub enum Outcome {
    /// It returned; gas used by the whole transaction, logs.
    Success {
        gas: u64,
        output: Vec<u8>,
        logs: Vec<revm::primitives::Log>,
    },
    /// It reverted, with this reason string (or the raw data, hex, when there is none), and
    /// the gas the whole transaction used.
    Revert(String, u64),
    /// It halted (out of gas, invalid opcode, ...).
    Halt(String),
}

impl Outcome {
    /// The transaction's gas, if it succeeded.
    pub fn gas(&self) -> u64 {
        match self {
            Outcome::Success { gas, .. } => *gas,
            other => panic!("expected success, got {}", other.describe()),
        }
    }

    /// What happened, in words.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Success { gas, .. } => format!("success ({gas} gas)"),
            Outcome::Revert(reason, gas) => format!("revert: {reason} ({gas} gas)"),
            Outcome::Halt(reason) => format!("halt: {reason}"),
        }
    }
}

/// A chain with its state.
pub struct Chain {
    evm: MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>,
}

impl Chain {
    /// A fresh chain.
    pub fn new() -> Self {
        let mut db = CacheDB::<EmptyDB>::default();
        for funded in [CALLER, PYEVM_SENDER] {
            db.insert_account_info(
                funded,
                AccountInfo {
                    balance: U256::from(10u64).pow(U256::from(30u64)),
                    ..AccountInfo::default()
                },
            );
        }
        let ctx = Context::mainnet()
            .with_db(db)
            .modify_cfg_chained(|cfg| {
                cfg.disable_nonce_check = true;
                cfg.chain_id = CHAIN_ID;
            })
            .modify_block_chained(|b| b.timestamp = U256::from(GENESIS_TIME));
        Chain {
            evm: ctx.build_mainnet(),
        }
    }

    /// A chain like [`Chain::new`] but without the pairing precompile (0x08): a call to it
    /// succeeds and returns nothing, as on a chain that never had it.
    pub fn without_pairing() -> Self {
        Self::without(&[bn254::pair::ISTANBUL])
    }

    /// A chain like [`Chain::new`] without these precompiles: a call to one of their addresses
    /// succeeds and returns nothing, as on a chain that never had it.
    pub fn without(missing: &[Precompile]) -> Self {
        let mut chain = Chain::new();
        let mut gone = Precompiles::default();
        gone.extend(missing.iter().cloned());
        let rest = Precompiles::osaka().difference(&gone);
        assert_eq!(rest.len() + missing.len(), Precompiles::osaka().len());
        // The spec stays Osaka's, so revm keeps this set rather than loading Osaka's own.
        chain.evm.precompiles = EthPrecompiles {
            precompiles: Box::leak(Box::new(rest)),
            spec: SpecId::OSAKA,
        };
        chain
    }

    fn tx(from: Address, kind: TxKind, data: Vec<u8>, value: U256) -> TxEnv {
        TxEnv::builder()
            .caller(from)
            .kind(kind)
            .data(Bytes::from(data))
            .value(value)
            .chain_id(Some(CHAIN_ID))
            .gas_limit(GAS_LIMIT)
            .build_fill()
    }

    /// Moves the chain's clock (the timestamp of the next blocks).
    pub fn set_time(&mut self, t: u64) {
        self.evm.ctx.block.timestamp = U256::from(t);
    }

    /// The ether an account holds.
    pub fn balance(&mut self, who: Address) -> U256 {
        use revm::Database;
        self.evm
            .ctx
            .journaled_state
            .database
            .basic(who)
            .unwrap()
            .map_or(U256::ZERO, |a| a.balance)
    }

    fn outcome(result: ExecutionResult) -> Outcome {
        match result {
            ExecutionResult::Success {
                gas, output, logs, ..
            } => Outcome::Success {
                gas: gas.tx_gas_used(),
                output: match output {
                    Output::Call(b) => b.to_vec(),
                    Output::Create(b, _) => b.to_vec(),
                },
                logs,
            },
            ExecutionResult::Revert { output, gas, .. } => Outcome::Revert(
                match alloy_sol_types::decode_revert_reason(&output) {
                    Some(r) => r.strip_prefix("revert: ").unwrap_or(&r).to_owned(),
                    None => format!("0x{}", hex::encode(&output)),
                },
                gas.tx_gas_used(),
            ),
            ExecutionResult::Halt { reason, .. } => Outcome::Halt(format!("{reason:?}")),
        }
    }

    /// Deploys creation bytecode from [`CALLER`]; the contract's address.
    pub fn deploy(&mut self, bytecode: &[u8]) -> Address {
        self.deploy_from(CALLER, bytecode)
    }

    /// Deploys creation bytecode from `from`; the contract's address.
    pub fn deploy_from(&mut self, from: Address, bytecode: &[u8]) -> Address {
        let result = self
            .evm
            .transact_commit(Self::tx(
                from,
                TxKind::Create,
                bytecode.to_vec(),
                U256::ZERO,
            ))
            .expect("the deployment is a valid transaction");
        result
            .created_address()
            .unwrap_or_else(|| panic!("deployment failed: {}", Self::outcome(result).describe()))
    }

    /// Sends a transaction that changes state if it succeeds.
    pub fn send(&mut self, to: Address, data: Vec<u8>) -> Outcome {
        self.send_value(to, data, U256::ZERO)
    }

    /// Sends a transaction carrying `value` wei from [`CALLER`].
    pub fn send_value(&mut self, to: Address, data: Vec<u8>, value: U256) -> Outcome {
        self.send_from(CALLER, to, data, value)
    }

    /// Sends a transaction carrying `value` wei from `from`.
    pub fn send_from(&mut self, from: Address, to: Address, data: Vec<u8>, value: U256) -> Outcome {
        let result = self
            .evm
            .transact_commit(Self::tx(from, TxKind::Call(to), data, value))
            .expect("the call is a valid transaction");
        Self::outcome(result)
    }

    /// Runs a transaction and throws its state changes away (an `eth_call`, with the gas of
    /// a transaction).
    pub fn call(&mut self, to: Address, data: Vec<u8>) -> Outcome {
        let result = self
            .evm
            .transact(Self::tx(CALLER, TxKind::Call(to), data, U256::ZERO))
            .expect("the call is a valid transaction");
        Self::outcome(result.result)
    }

    /// Calls a view function and decodes what it returns.
    pub fn view<C: SolCall>(&mut self, to: Address, call: C) -> C::Return {
        match self.call(to, call.abi_encode()) {
            Outcome::Success { output, .. } => C::abi_decode_returns(&output).unwrap(),
            other => panic!("{} failed: {}", C::SIGNATURE, other.describe()),
        }
    }
}

/// The intrinsic gas of a transaction with this calldata: 21,000 plus 4 per zero byte and
/// 16 per other byte (what a verifier's execution does not cost).
pub fn intrinsic_gas(data: &[u8]) -> u64 {
    21_000
        + data
            .iter()
            .map(|&b| if b == 0 { 4 } else { 16 })
            .sum::<u64>()
}
