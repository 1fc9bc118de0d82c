// SPDX-License-Identifier: MIT OR Apache-2.0
// Rendered by zkw-evm for one registered zkworker model. Do not edit: render it again.
pragma solidity ^0.8.24;

/// @title Groth16 verifier and settlement ledger of one zkworker model
/// @notice Model 8df3e459f2d057716bd2de03ec5ed71705ec9211797eda850486561d4267f8da. A client opens a request here (`request`, paying the fee
/// it signed — at least FEE — into the contract) for its input digest and nonce; the request's digest names this contract and
/// chain (its venue), so a proof made for it is about another statement on any other
/// deployment. One receipt per request settles, whichever worker proved it: its proof is
/// checked against the model's verifying key, baked in below, for the public inputs
/// [MODEL_COMMITMENT, inputDigest, outputs..., jobBinding(jobId, workerId, clientNonce,
/// request)]; then the request is marked settled and its fee, the deposit, is credited to the
/// worker and the model's owner by the share. A request nobody settles is reclaimed by its payer after REQUEST_TTL.
/// @dev Groth16 verification: e(A, B) = e(alpha, beta) * e(L, gamma) * e(C, delta), with
/// L = IC[0] + sum_i inputs[i] * IC[i + 1], checked as the single pairing product
/// e(-A, B) * e(alpha, beta) * e(L, gamma) * e(C, delta) == 1 with the BN254 precompiles
/// ecAdd (0x06), ecMul (0x07) and pairing (0x08). Input 0 is always MODEL_COMMITMENT, so
/// IC[0] + MODEL_COMMITMENT * IC[1] is folded into one constant point (L0) when rendered.
contract ZkwSettlement {
    /// BN254 base field modulus: every proof coordinate must lie below it.
    uint256 internal constant Q =
        0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47;
    /// BN254 scalar field order: every public input must lie below it, or input + R would be
    /// a second spelling of the same statement.
    uint256 internal constant R =
        0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    /// blake3 of the canonical model file.
    bytes32 public constant MODEL_ID = 0x8df3e459f2d057716bd2de03ec5ed71705ec9211797eda850486561d4267f8da;
    /// Public input 0: the model commitment.
    uint256 public constant MODEL_COMMITMENT = 0x19b285c73dca1391555396f4e0f00dcb148aa7613d6baf5d715955e987337b2e;
    /// The model owner's ed25519 public key.
    bytes32 public constant OWNER = 0x43a72e714401762df66b68c26dfbdf2682aaec9f2474eca4613e424a0fbafd3c;
    /// The least fee a request may name (wei): a client deposits the fee it signed, at least
    /// this, and one settled job credits it to worker and owner together.
    uint256 public constant FEE = 1001;
    /// How long a request stays open to workers before its payer may reclaim the deposit.
    uint256 public constant REQUEST_TTL = 7 days;
    /// The worker's share of FEE, in basis points (0..=10000).
    uint256 public constant WORKER_SHARE_BPS = 7000;
    /// Number of output elements among the public inputs.
    uint256 public constant OUTPUTS = 1;
    /// Number of public inputs: commitment, input digest, outputs, job binding.
    uint256 public constant PUBLIC_INPUTS = OUTPUTS + 3;
    /// Domain tag of the job binding's SHA-256.
    bytes internal constant BINDING_DOMAIN = hex"7a6b776f726b6572206a6f622062696e64696e67207633";
    /// Domain tag of the client request's SHA-256.
    bytes internal constant REQUEST_DOMAIN = hex"7a6b776f726b657220636c69656e742072657175657374207631";
    /// The tag byte of an EVM venue (`zkw_verifier::venue`).
    uint8 internal constant EVM_VENUE = 1;
    /// Every ownership job id starts with this (`zkw_verifier::ownership`).
    bytes internal constant OWNERSHIP_PREFIX = "zkworker-ownership/";
    /// Gas handed to each precompile: its EIP-1108 price, no more, so that a malformed point
    /// (which makes a precompile fail and keep all the gas it was given) costs that price and
    /// not everything the caller left.
    uint256 internal constant EC_ADD_GAS = 150;
    uint256 internal constant EC_MUL_GAS = 6000;
    uint256 internal constant PAIRING_4_GAS = 181000; // 45000 + 4 * 34000

    // The verifying key. G2 coordinates are (c1, c0): the order of EIP-197.
    uint256 internal constant ALPHA_X = 0x030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3;
    uint256 internal constant ALPHA_Y = 0x15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4;
    uint256 internal constant BETA_X1 = 0x1014772f57bb9742735191cd5dcfe4ebbc04156b6878a0a7c9824f32ffb66e85;
    uint256 internal constant BETA_X0 = 0x06064e784db10e9051e52826e192715e8d7e478cb09a5e0012defa0694fbc7f5;
    uint256 internal constant BETA_Y1 = 0x021e2335f3354bb7922ffcc2f38d3323dd9453ac49b55441452aeaca147711b2;
    uint256 internal constant BETA_Y0 = 0x058e1d5681b5b9e0074b0f9c8d2c68a069b920d74521e79765036d57666c5597;
    uint256 internal constant GAMMA_X1 = 0x0a09ccf561b55fd99d1c1208dee1162457b57ac5af3759d50671e510e428b2a1;
    uint256 internal constant GAMMA_X0 = 0x2e539c423b302d13f4e5773c603948eaf5db5df8ae8a9a9113708390a06410d8;
    uint256 internal constant GAMMA_Y1 = 0x19b763513924a736e4eebd0d78c91c1bc1d657fee4214057d21414011cfcc763;
    uint256 internal constant GAMMA_Y0 = 0x2f8d9f9ab83727c77a2fec063cb7b6e5eb23044ccf535ad49d46d394fb6f6bf6;
    uint256 internal constant DELTA_X1 = 0x2903ba015a9abde26a5d081e84551e63be0fd4516e46ee6d593edeba46362455;
    uint256 internal constant DELTA_X0 = 0x224bdc5d4327fcf8ed702e01de1c2f1657a253ba75e32a89c390142aaa28b308;
    uint256 internal constant DELTA_Y1 = 0x03c8b7cda6b2dedb7aeeaf5fda464ad17036bea1c4e6f7adbaed1ebe0335e0d8;
    uint256 internal constant DELTA_Y0 = 0x1d92fff52a265017eeccb372e37d7a7bd431800eca28dfd82e21e8054114233f;
    /// IC[0] + MODEL_COMMITMENT * IC[1].
    uint256 internal constant L0_X = 0x1d8bff6ac808b0df63ff44a40f57e0ccbe1c0863e50297228b1f6019e3bb8e32;
    uint256 internal constant L0_Y = 0x1fcc3799d2467aee84422391aa641ca4a643a7eba09b027233c5e275cc1db416;

    /// Where a request stands.
    enum State {
        None,
        Open,
        Settled,
        Reclaimed
    }

    /// A client's request as it signed it, less what the contract knows itself (the model, this
    /// venue): its key, nonce, input digest and fee.
    struct Ask {
        bytes32 client;
        string clientNonce;
        uint256 inputDigest;
        uint256 fee;
    }

    /// A client's request: who paid its deposit, since when, and where it stands (one slot).
    struct Request {
        address payer;
        uint64 openedAt;
        State state;
    }

    /// Credits per ed25519 public key (workers and owner), in wei, backed by the deposits of
    /// settled requests, which the contract holds.
    mapping(bytes32 => uint256) public balances;
    /// Requests by their digest (`requestDigest`).
    mapping(bytes32 => Request) public requests;

    /// A client's request was opened and its deposit taken.
    event Requested(bytes32 indexed request, bytes32 indexed client, address payer);
    /// A request was settled by a worker's receipt.
    event Settled(
        bytes32 indexed request, bytes32 indexed worker, uint256 workerCredit, uint256 ownerCredit
    );
    /// An unsettled request's deposit went back to its payer.
    event Reclaimed(bytes32 indexed request, address payer);

    /// @notice Opens the request of `ask.client` (its ed25519 public key) for the input with
    /// `ask.inputDigest` under `ask.clientNonce`, at `ask.fee` (at least FEE), taking the fee as
    /// its deposit. The client signs the same request off-chain (`zkw submit --client-key
    /// --venue`) for the worker; on chain the deposit is the authorisation.
    /// @return d The request's digest, which the job binding of its receipt absorbs.
    function request(Ask calldata ask) external payable returns (bytes32 d) {
        require(ask.fee >= FEE, "the fee is below the model's");
        require(msg.value == ask.fee, "the deposit must be the request's fee");
        require(ask.inputDigest < R, "the input digest is not a field element");
        d = requestDigest(ask);
        require(requests[d].state == State.None, "already requested");
        requests[d] = Request(msg.sender, uint64(block.timestamp), State.Open);
        emit Requested(d, ask.client, msg.sender);
    }

    /// @notice Settles an open request of this model once, crediting the worker that proved it
    /// and the model's owner with the request's deposit, its fee, by the share.
    /// @param jobId The job's id, as the receipt names it.
    /// @param workerId The worker's ed25519 public key, 64 lower-case hex digits.
    /// @param ask The client's request (its key, nonce, input digest — public input 1 — and
    /// fee), as the receipt carries it.
    /// @param outputs The output elements of the statement (the values packed, or one digest).
    /// @param proof A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y.
    function settle(
        string calldata jobId,
        string calldata workerId,
        Ask calldata ask,
        uint256[] calldata outputs,
        uint256[8] calldata proof
    ) external {
        require(outputs.length == OUTPUTS, "wrong number of outputs");
        require(!isOwnershipJob(jobId), "an ownership proof is not a job");
        bytes32 worker = workerKey(workerId);
        // The digest commits to the fee: only an opened request's deposit can be paid out.
        bytes32 d = requestDigest(ask);
        // Before the pairing: a replay is refused for the price of a storage read, not ~220k.
        State state = requests[d].state;
        require(state != State.None, "not requested here");
        require(state != State.Settled, "already settled");
        require(state == State.Open, "reclaimed by its payer");
        uint256[] memory inputs = new uint256[](PUBLIC_INPUTS);
        inputs[0] = MODEL_COMMITMENT;
        inputs[1] = ask.inputDigest;
        for (uint256 i = 0; i < OUTPUTS; ++i) {
            inputs[2 + i] = outputs[i];
        }
        inputs[PUBLIC_INPUTS - 1] = jobBinding(jobId, workerId, ask.clientNonce, d);
        require(_verify(proof, inputs), "invalid proof");

        requests[d].state = State.Settled;
        uint256 workerCredit = ask.fee * WORKER_SHARE_BPS / 10000;
        uint256 ownerCredit = ask.fee - workerCredit;
        balances[worker] += workerCredit;
        balances[OWNER] += ownerCredit;
        emit Settled(d, worker, workerCredit, ownerCredit);
    }

    /// @notice Gives an open request's deposit back to its payer once REQUEST_TTL has passed
    /// without a worker settling it; the request then settles nowhere. Named by its fields, as
    /// `request` took them (the digest commits to the fee refunded).
    function reclaim(Ask calldata ask) external {
        bytes32 d = requestDigest(ask);
        Request storage r = requests[d];
        require(r.state == State.Open, "not an open request");
        require(msg.sender == r.payer, "only its payer reclaims a request");
        require(block.timestamp >= r.openedAt + REQUEST_TTL, "still open to workers");
        r.state = State.Reclaimed;
        emit Reclaimed(d, msg.sender);
        (bool ok,) = payable(msg.sender).call{value: ask.fee}("");
        require(ok, "the refund was not accepted");
    }

    /// @notice This contract as a settlement venue: its tag, the chain id and its address,
    /// the bytes `zkw_verifier::Venue` encodes for `evm:<chain id>:<address>`.
    function venue() public view returns (bytes memory) {
        return abi.encodePacked(EVM_VENUE, block.chainid, address(this));
    }

    /// @notice The digest of a client's request for this model, here: SHA-256 over the domain
    /// tag, the model id, the input digest, the nonce after its length (uint64), this venue
    /// after its length, the fee and the client's key (`zkw_verifier::request`).
    function requestDigest(Ask calldata ask) public view returns (bytes32) {
        bytes memory v = venue();
        // In two parts: one encodePacked of all nine values runs out of stack slots.
        bytes memory head = abi.encodePacked(
            REQUEST_DOMAIN,
            MODEL_ID,
            ask.inputDigest,
            uint64(bytes(ask.clientNonce).length),
            ask.clientNonce
        );
        return sha256(abi.encodePacked(head, uint64(v.length), v, ask.fee, ask.client));
    }

    /// @notice Whether `proof` proves this model's statement with these public inputs.
    /// False, never a revert, for any malformed proof or input.
    function verifyProof(uint256[8] calldata proof, uint256[] calldata inputs)
        public
        view
        returns (bool)
    {
        return _verify(proof, inputs);
    }

    /// @notice The last public input: SHA-256 over the domain tag, the three strings and the
    /// request digest, each after its length as a big-endian uint64, read as an integer and
    /// reduced mod R.
    function jobBinding(
        string calldata jobId,
        string calldata workerId,
        string calldata clientNonce,
        bytes32 requestDigest_
    ) public pure returns (uint256) {
        bytes32 h = sha256(
            abi.encodePacked(
                BINDING_DOMAIN,
                uint64(bytes(jobId).length),
                jobId,
                uint64(bytes(workerId).length),
                workerId,
                uint64(bytes(clientNonce).length),
                clientNonce,
                uint64(32),
                requestDigest_
            )
        );
        return uint256(h) % R;
    }

    /// @notice Whether a job id is an owner's proof of holding the proving key
    /// ("zkworker-ownership/..."), made at setup: no client asked for it, so it never settles.
    function isOwnershipJob(string calldata jobId) public pure returns (bool) {
        bytes calldata id = bytes(jobId);
        bytes memory prefix = OWNERSHIP_PREFIX;
        return id.length >= prefix.length && keccak256(id[:prefix.length]) == keccak256(prefix);
    }

    /// @notice A worker id (64 lower-case hex digits) as the 32-byte key it spells.
    function workerKey(string calldata workerId) public pure returns (bytes32 key) {
        require(bytes(workerId).length == 64, "worker id is not 64 hex digits");
        bool ok = true;
        // A digit at a time in assembly, ~9k gas; the same loop in Solidity costs ~21k.
        assembly ("memory-safe") {
            let at := workerId.offset
            for { let i := 0 } lt(i, 64) { i := add(i, 1) } {
                let c := byte(0, calldataload(add(at, i)))
                // '0'..'9' -> 0..9. Below '0' the subtraction wraps to a huge value.
                let d := sub(c, 0x30)
                if gt(d, 9) {
                    // 'a'..'f' -> 10..15; everything else lands outside 10..15.
                    d := sub(c, 0x57)
                    if or(lt(d, 10), gt(d, 15)) { ok := 0 }
                }
                key := or(shl(4, key), d)
            }
        }
        require(ok, "worker id is not lower-case hex");
    }

    /// The Groth16 check. Every rejection is a `false`: a wrong count, a coordinate >= Q, an
    /// input >= R, input 0 other than MODEL_COMMITMENT, a failed precompile, a pairing != 1.
    function _verify(uint256[8] calldata proof, uint256[] memory inputs)
        internal
        view
        returns (bool)
    {
        if (inputs.length != PUBLIC_INPUTS || inputs[0] != MODEL_COMMITMENT) {
            return false;
        }
        for (uint256 i = 0; i < 8; ++i) {
            if (proof[i] >= Q) {
                return false;
            }
        }
        // L = L0 + sum_{i >= 1} inputs[i] * IC[i + 1]; ic[2k], ic[2k + 1] is IC[k + 2].
        uint256[6] memory ic = [
            uint256(0x05e86f8cc8a7a4f10f56093465679f17f8b8c3fdb41469e408b529e030f52f3f),
            0x2857bd14bbc09767bed8e913d3ccb42b2bc8738f715417dd6f020725d22bcd90,
            0x15bf2bb17880144b5d1cd2b1f46eff9d617bffd1ca57c37fb5a49bd84e53cf66,
            0x049c797f9ce0d17083deb32b5e36f2ea2a212ee036598dd7624c168993d1355f,
            0x2d96b121486ab9da7bf549e57d2f8a6cc1983a336903524fb05dcd507457f63c,
            0x1dcb45731979ca35dfde49a476e273a1b1c9b52e3eca22fae279459920daa7e3
        ];
        uint256 lx = L0_X;
        uint256 ly = L0_Y;
        for (uint256 i = 1; i < PUBLIC_INPUTS; ++i) {
            uint256 s = inputs[i];
            if (s >= R) {
                return false;
            }
            // 0 * P is the identity: skipping it saves an ecMul and an ecAdd.
            if (s != 0) {
                bool ok;
                (ok, lx, ly) = _mulAdd(lx, ly, ic[2 * i - 2], ic[2 * i - 1], s);
                if (!ok) {
                    return false;
                }
            }
        }

        uint256[24] memory w;
        // -A: (x, Q - y), and the point at infinity (0, 0) is its own negation.
        w[0] = proof[0];
        w[1] = proof[1] == 0 ? 0 : Q - proof[1];
        w[2] = proof[2];
        w[3] = proof[3];
        w[4] = proof[4];
        w[5] = proof[5];
        w[6] = ALPHA_X;
        w[7] = ALPHA_Y;
        w[8] = BETA_X1;
        w[9] = BETA_X0;
        w[10] = BETA_Y1;
        w[11] = BETA_Y0;
        w[12] = lx;
        w[13] = ly;
        w[14] = GAMMA_X1;
        w[15] = GAMMA_X0;
        w[16] = GAMMA_Y1;
        w[17] = GAMMA_Y0;
        w[18] = proof[6];
        w[19] = proof[7];
        w[20] = DELTA_X1;
        w[21] = DELTA_X0;
        w[22] = DELTA_Y1;
        w[23] = DELTA_Y0;
        return _pairing(w);
    }

    /// (x, y) + s * (px, py) by ecMul then ecAdd. `ok` is false unless both calls succeed and
    /// each returns exactly one point: a call to an address without code "succeeds" with no
    /// output, and memory would still hold the inputs.
    function _mulAdd(uint256 x, uint256 y, uint256 px, uint256 py, uint256 s)
        private
        view
        returns (bool ok, uint256 rx, uint256 ry)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, px)
            mstore(add(m, 0x20), py)
            mstore(add(m, 0x40), s)
            // s * P lands in m + 0x40 .. m + 0x80, behind the accumulator written next.
            let success := staticcall(EC_MUL_GAS, 0x07, m, 0x60, add(m, 0x40), 0x40)
            ok := and(success, eq(returndatasize(), 0x40))
            mstore(m, x)
            mstore(add(m, 0x20), y)
            success := staticcall(EC_ADD_GAS, 0x06, m, 0x80, m, 0x40)
            ok := and(ok, and(success, eq(returndatasize(), 0x40)))
            rx := mload(m)
            ry := mload(add(m, 0x20))
        }
    }

    /// Whether the pairing precompile accepts the 4 pairs in `w` and answers exactly 1.
    function _pairing(uint256[24] memory w) private view returns (bool ok) {
        assembly ("memory-safe") {
            let success := staticcall(PAIRING_4_GAS, 0x08, w, 0x300, w, 0x20)
            ok := and(success, and(eq(returndatasize(), 0x20), eq(mload(w), 1)))
        }
    }
}
