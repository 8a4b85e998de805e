//! NTLMv2 response verification and session key computation (MS-NLMP 3.3.2, 3.4.5.1, 3.1.5.1.2).

use super::{hmac_md5, rc4, utf16le};
use crate::AuthError;
use crypto::ct_eq;

/// Length of NTProofStr at the start of an NTLMv2 NtChallengeResponse.
const NT_PROOF_LEN: usize = 16;
/// Smallest NTLMv2_CLIENT_CHALLENGE: fixed header (28 bytes) plus an empty AV list (MsvAvEOL, 4).
const MIN_CLIENT_CHALLENGE_LEN: usize = 32;
/// Offset of the AV pairs inside an NTLMv2_CLIENT_CHALLENGE.
const CLIENT_CHALLENGE_AV_OFFSET: usize = 28;

/// NTOWFv2 = HMAC_MD5(NT hash, UTF-16LE(UPPERCASE(user) || domain)).
pub fn ntowfv2(nt_hash: &[u8; 16], user: &str, domain: &str) -> [u8; 16] {
    let identity = utf16le(&(user.to_uppercase() + domain));
    hmac_md5(nt_hash, &[&identity])
}

/// NTProofStr = HMAC_MD5(NTOWFv2, ServerChallenge || NTLMv2_CLIENT_CHALLENGE).
pub fn nt_proof_str(
    ntowf: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8],
) -> [u8; 16] {
    hmac_md5(ntowf, &[server_challenge, client_challenge])
}

/// An NtChallengeResponse split into NTProofStr and the client challenge structure.
pub struct NtResponse<'a> {
    pub proof: &'a [u8],
    pub client_challenge: &'a [u8],
}

impl<'a> NtResponse<'a> {
    /// Splits an NTLMv2 response; NTLMv1 (24 bytes) and anything too short yield None.
    pub fn parse(response: &'a [u8]) -> Option<Self> {
        let (proof, client_challenge) = response.split_at_checked(NT_PROOF_LEN)?;
        (client_challenge.len() >= MIN_CLIENT_CHALLENGE_LEN).then_some(NtResponse {
            proof,
            client_challenge,
        })
    }

    /// The AV pairs the client put into its challenge structure (with a copy of our TargetInfo).
    pub fn av_pairs(&self) -> &'a [u8] {
        self.client_challenge
            .get(CLIENT_CHALLENGE_AV_OFFSET..)
            .unwrap_or_default()
    }
}

/// Verifies NTProofStr with the domain the client sent and then with the empty domain; returns
/// the SessionBaseKey (= KeyExchangeKey for NTLMv2) on success.
pub fn verify(
    nt_hash: &[u8; 16],
    user: &str,
    domain: &str,
    server_challenge: &[u8; 8],
    response: &NtResponse<'_>,
) -> Option<[u8; 16]> {
    [domain, ""].iter().find_map(|d| {
        let ntowf = ntowfv2(nt_hash, user, d);
        let proof = nt_proof_str(&ntowf, server_challenge, response.client_challenge);
        ct_eq(&proof, response.proof).then(|| hmac_md5(&ntowf, &[&proof]))
    })
}

/// ExportedSessionKey: with NTLMSSP_NEGOTIATE_KEY_EXCH the client's random key decrypted with the
/// KeyExchangeKey, otherwise the KeyExchangeKey itself.
pub fn exported_session_key(
    key_exch: bool,
    key_exchange_key: &[u8; 16],
    encrypted: &[u8],
) -> Result<[u8; 16], AuthError> {
    if !key_exch {
        return Ok(*key_exchange_key);
    }
    let mut key: [u8; 16] = encrypted.try_into().map_err(|_| AuthError::InvalidToken)?;
    rc4(key_exchange_key, &mut key);
    Ok(key)
}

/// MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE with the MIC zeroed).
pub fn mic(
    exported: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate_zeroed: &[u8],
) -> [u8; 16] {
    hmac_md5(exported, &[negotiate, challenge, authenticate_zeroed])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ntlm::nt_hash;

    // MS-NLMP 4.2.4: user "User", domain "Domain", password "Password".
    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

    /// The 4.2.4 temp structure: header, time 0, client challenge aa*8, and the 4.2.4 AV pairs.
    fn client_challenge() -> Vec<u8> {
        let mut temp = vec![0x01, 0x01, 0, 0, 0, 0, 0, 0];
        temp.extend([0u8; 8]);
        temp.extend([0xaa; 8]);
        temp.extend([0u8; 4]);
        temp.extend([0x02, 0x00, 0x0c, 0x00]);
        temp.extend(utf16le("Domain"));
        temp.extend([0x01, 0x00, 0x0c, 0x00]);
        temp.extend(utf16le("Server"));
        temp.extend([0u8; 4]);
        temp.extend([0u8; 4]);
        temp
    }

    #[test]
    fn ms_nlmp_4_2_4_ntowfv2() {
        let expected = [
            0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93, 0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0,
            0x2e, 0x3f,
        ];
        assert_eq!(ntowfv2(&nt_hash("Password"), "User", "Domain"), expected);
    }

    #[test]
    fn ms_nlmp_4_2_4_nt_proof_and_session_base_key() {
        let ntowf = ntowfv2(&nt_hash("Password"), "User", "Domain");
        let temp = client_challenge();
        let proof = nt_proof_str(&ntowf, &SERVER_CHALLENGE, &temp);
        let expected_proof = [
            0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef,
            0x6a, 0x1c,
        ];
        assert_eq!(proof, expected_proof);
        let mut response = proof.to_vec();
        response.extend(&temp);
        let parsed = NtResponse::parse(&response).unwrap();
        let base = verify(
            &nt_hash("Password"),
            "User",
            "Domain",
            &SERVER_CHALLENGE,
            &parsed,
        )
        .unwrap();
        let expected_base = [
            0x8d, 0xe4, 0x0c, 0xca, 0xdb, 0xc1, 0x4a, 0x82, 0xf1, 0x5c, 0xb0, 0xad, 0x0d, 0xe9,
            0x5c, 0xa3,
        ];
        assert_eq!(base, expected_base);
        // 4.2.4.2.3: EncryptedSessionKey c5 da d2 54 ... decrypts to the random key 55 * 16.
        let encrypted = [
            0xc5, 0xda, 0xd2, 0x54, 0x4f, 0xc9, 0x79, 0x90, 0x94, 0xce, 0x1c, 0xe9, 0x0b, 0xc9,
            0xd0, 0x3e,
        ];
        assert_eq!(
            exported_session_key(true, &base, &encrypted),
            Ok([0x55; 16])
        );
        assert_eq!(exported_session_key(false, &base, &encrypted), Ok(base));
        assert_eq!(
            exported_session_key(true, &base, &encrypted[..15]),
            Err(AuthError::InvalidToken)
        );
    }

    #[test]
    fn wrong_password_and_domain_fallback() {
        let temp = client_challenge();
        // A client that computed its proof with the empty domain is still accepted.
        let ntowf = ntowfv2(&nt_hash("Password"), "User", "");
        let mut response = nt_proof_str(&ntowf, &SERVER_CHALLENGE, &temp).to_vec();
        response.extend(&temp);
        let parsed = NtResponse::parse(&response).unwrap();
        assert!(verify(
            &nt_hash("Password"),
            "user",
            "Domain",
            &SERVER_CHALLENGE,
            &parsed
        )
        .is_some());
        assert!(verify(
            &nt_hash("password"),
            "User",
            "Domain",
            &SERVER_CHALLENGE,
            &parsed
        )
        .is_none());
        assert!(NtResponse::parse(&[0u8; 24]).is_none());
        assert!(NtResponse::parse(&[0u8; 47]).is_none());
    }
}
