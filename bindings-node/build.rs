//! Link flags Node-API addons need (napi-build sets them per platform).

fn main() {
    napi_build::setup();
}
