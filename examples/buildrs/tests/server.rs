//! The build-time generated server works end to end, in-process.

use mcpgen_runtime::prelude::json;
use mcpgen_runtime::testing::{TestClient, block_on, check_json_schema};

#[test]
fn lists_calls_and_reads() {
    block_on(async {
        let server = buildrs_example::server().expect("the server builds");
        let client = TestClient::connect(server).await.expect("initialize");
        assert_eq!(client.initialize_result()["serverInfo"]["name"], "greeter");

        let tools = client
            .list_all("tools/list", "tools")
            .await
            .expect("tools/list");
        assert_eq!(tools.len(), 1);
        assert_eq!(tools[0]["name"], "greet");
        check_json_schema(&tools[0]["inputSchema"]).expect("valid input schema");

        let result = client
            .call_tool("greet", json!({"name": "Ada", "excited": true}))
            .await
            .expect("tools/call");
        assert_eq!(result["structuredContent"]["greeting"], "Hello, Ada!");

        // The bundled file was read at build time.
        let motd = client
            .read_resource("greeter://motd")
            .await
            .expect("read motd");
        assert_eq!(
            motd["contents"][0]["text"],
            "Hello from a server generated at build time.\n"
        );
        let templated = client
            .read_resource("greeter://greetings/Grace")
            .await
            .expect("read template");
        assert_eq!(templated["contents"][0]["text"], "Hello, Grace.");
    });
}
