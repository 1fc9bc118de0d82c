//! The contract's interface, as Rust types: what [`crate::calldata`] encodes and what a
//! caller decodes from the chain (return values, the `Settled` event).
//!
//! Declared once with alloy's `sol!` macro, from the signatures in `Settlement.sol.tmpl`, so
//! selectors and the ABI encoding come from a maintained encoder rather than from hand-made
//! byte layouts. A test compiles the template and calls every function declared here.
#![allow(missing_docs)] // sol! generates items (return structs, selectors) that carry no docs.

alloy_sol_types::sol! {
    /// A client's request as the contract takes it: key, nonce, input digest, fee.
    #[derive(Debug, PartialEq)]
    struct Ask {
        bytes32 client;
        string clientNonce;
        uint256 inputDigest;
        uint256 fee;
    }

    /// Opens a client's request at its fee (at least FEE), taking the fee as its deposit;
    /// returns the request's digest.
    function request(Ask ask) external payable returns (bytes32);

    /// Settles an open request once: verifies the proof, marks the request, credits worker
    /// and owner.
    function settle(
        string jobId,
        string workerId,
        Ask ask,
        uint256[] outputs,
        uint256[8] proof
    ) external;

    /// Gives an open request's deposit back to its payer after REQUEST_TTL.
    function reclaim(Ask ask) external;

    /// Whether `proof` proves the model's statement with these public inputs.
    function verifyProof(uint256[8] proof, uint256[] inputs) external view returns (bool);

    /// The job binding the contract computes (the statement's last public input).
    function jobBinding(string jobId, string workerId, string clientNonce, bytes32 requestDigest_)
        external pure returns (uint256);

    /// The digest of a client's request here.
    function requestDigest(Ask ask) external view returns (bytes32);

    /// The contract as a venue: tag, chain id, address.
    function venue() external view returns (bytes);

    /// A worker id decoded into the key that is credited.
    function workerKey(string workerId) external pure returns (bytes32);

    /// Credits of an ed25519 public key.
    function balances(bytes32 key) external view returns (uint256);

    /// A request: its payer, when it was opened, and its state (0 none, 1 open, 2 settled,
    /// 3 reclaimed).
    function requests(bytes32 d) external view returns (address payer, uint64 openedAt, uint8 state);

    /// Emitted when a request is opened.
    event Requested(bytes32 indexed request, bytes32 indexed client, address payer);

    /// Emitted once per settled request.
    event Settled(
        bytes32 indexed request,
        bytes32 indexed worker,
        uint256 workerCredit,
        uint256 ownerCredit
    );

    /// Emitted when a deposit goes back to its payer.
    event Reclaimed(bytes32 indexed request, address payer);
}
