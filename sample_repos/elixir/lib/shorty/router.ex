defmodule Shorty.Router do
  @moduledoc """
  HTTP endpoints: `POST /links` creates a link, `GET /:code` redirects.
  """
  use Plug.Router

  plug :match
  plug Plug.Parsers, parsers: [:json], json_decoder: Jason
  plug :dispatch

  post "/links" do
    case Shorty.shorten(conn.body_params["url"] || "") do
      {:ok, link} -> send_json(conn, 201, %{code: link.code, url: link.url})
      {:error, reason} -> send_json(conn, 422, %{error: reason})
    end
  end

  get "/:code" do
    case Shorty.resolve(code) do
      {:ok, link} -> conn |> put_resp_header("location", link.url) |> send_resp(302, "")
      :error -> send_resp(conn, 404, "not found")
    end
  end

  match _ do
    send_resp(conn, 404, "not found")
  end

  # Encodes `body` as JSON and sends it with `status`.
  defp send_json(conn, status, body) do
    conn
    |> put_resp_content_type("application/json")
    |> send_resp(status, Jason.encode!(body))
  end

  defmodule Helpers do
    @moduledoc "Helpers for templates and tests."

    @doc "The public URL of a short `code` on `host`."
    def short_url(host, code), do: "https://#{host}/#{code}"

    @doc """
    Defines a function `name` that returns the short URL of `code` on the configured host.
    """
    defmacro fixed_link(name, code) do
      quote do
        def unquote(name)(), do: Shorty.Router.Helpers.short_url(Application.get_env(:shorty, :host), unquote(code))
      end
    end
  end
end
