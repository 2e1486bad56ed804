//! What the fake's test files share: a token from the fake Keystone, for
//! raw requests (bodies and parameters the typed client would refuse).

/// A token of `user` (by its password, scoped to the fake's project), over
/// plain HTTP; the fake Keystone must answer 201.
pub async fn token(cloud: &openstack_backups_fake::FakeCloud, user: &str, password: &str) -> String {
    let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": openstack_backups_fake::PROJECT, "domain": {"id": "default"}}}}});
    let response =
        reqwest::Client::new().post(format!("{}/v3/auth/tokens", cloud.auth_url())).json(&body).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.headers()["x-subject-token"].to_str().unwrap().to_owned()
}
