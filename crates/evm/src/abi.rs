//! The contract's interface, as Rust types: what [`crate::calldata`] encodes and what a
//! caller decodes from the chain (return values, the `Settled` event).
//!
//! Declared once with alloy's `sol!` macro, from the signatures in `Settlement.sol.tmpl`, so
//! selectors and the ABI encoding come from a maintained encoder rather than from hand-made
//! byte layouts. A test compiles the template and calls every function declared here.
#![allow(missing_docs)] // sol! generates items (return structs, selectors) that carry no docs.

alloy_sol_types::sol! {
    /// Settles a job once: verifies the proof, marks the job, credits worker and owner.
    function settle(
        string jobId,
        string workerId,
        string clientNonce,
        uint256 inputDigest,
        uint256[] outputs,
        uint256[8] proof
    ) external;

    /// Whether `proof` proves the model's statement with these public inputs.
    function verifyProof(uint256[8] proof, uint256[] inputs) external view returns (bool);

    /// The job binding the contract computes (the statement's last public input).
    function jobBinding(string jobId, string workerId, string clientNonce)
        external pure returns (uint256);

    /// A worker id decoded into the key that is credited.
    function workerKey(string workerId) external pure returns (bytes32);

    /// Credits of an ed25519 public key.
    function balances(bytes32 key) external view returns (uint256);

    /// Whether the job with this key (keccak256 of the worker key ‖ the job id) is settled.
    function settled(bytes32 jobKey) external view returns (bool);

    /// Emitted once per settled job.
    event Settled(
        bytes32 indexed jobKey,
        bytes32 indexed worker,
        uint256 workerCredit,
        uint256 ownerCredit
    );
}
