//! Tokens as they arrive from outside: delegation and block token identifiers, token
//! files (`HADOOP_TOKEN_FILE_LOCATION`, both storage formats), URL-safe token strings
//! (`-renewer`, WebHDFS `delegation=`), SASL user names and `TokenProto`s in requests.

use hafs_proto::common::TokenProto;
use hafs_security::block_token::{base64_decode, BlockTokenIdentifier};
use hafs_security::token::storage::Credentials;
use hafs_security::token::{decode_sasl_user_name, DelegationTokenIdentifier, Token};

/// Every token parser, each on the whole input.
pub fn tokens(data: &[u8]) {
    let _ = DelegationTokenIdentifier::decode(data);
    let _ = BlockTokenIdentifier::decode(data);
    let _ = Credentials::read_storage_file(data);
    if let Ok(p) = <TokenProto as prost::Message>::decode(data) {
        if let Ok(t) = Token::from_proto(&p) {
            let _ = t.delegation_identifier();
        }
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = Token::decode_from_url_string(&text) {
        let _ = t.delegation_identifier();
    }
    let _ = decode_sasl_user_name(&text);
    let _ = base64_decode(&text);
}
