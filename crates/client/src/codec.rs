//! The gRPC codec: prost's, except that a request that does not parse is the caller's error.
//!
//! tonic's prost codec answers a message that fails to decode with INTERNAL, which clients
//! take for the server's fault and retry; a malformed request never improves on retry, so the
//! worker answers INVALID_ARGUMENT, naming the decode error. Used by the generated code
//! (`build.rs` sets it as the codec path), on both sides: a client that cannot decode a
//! worker's answer reports INVALID_ARGUMENT too.

use tonic::codec::{BufferSettings, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// prost's codec with INVALID_ARGUMENT for undecodable messages.
#[derive(Debug, Clone, Default)]
pub struct Codec<T, U>(std::marker::PhantomData<(T, U)>);

/// prost's decoder, its errors re-coded.
#[derive(Debug)]
pub struct InvalidArgumentDecoder<U>(ProstDecoder<U>);

impl<U: prost::Message + Default> Decoder for InvalidArgumentDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.0.decode(buf).map_err(|s| {
            if s.code() == Code::Internal {
                Status::invalid_argument(format!("malformed message: {}", s.message()))
            } else {
                s
            }
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = InvalidArgumentDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        InvalidArgumentDecoder(ProstCodec::<T, U>::raw_decoder(BufferSettings::default()))
    }
}
