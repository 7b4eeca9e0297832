defprotocol Shorty.Validator do
  @moduledoc """
  Checks that a target can be shortened.
  """

  @doc "Returns `{:ok, value}` or `{:error, reason}`."
  def validate(value)
end

defimpl Shorty.Validator, for: URI do
  @allowed_schemes ["http", "https"]

  @doc "A URI needs an http(s) scheme and a host."
  def validate(%URI{scheme: scheme, host: host} = uri) when scheme in @allowed_schemes and is_binary(host) do
    {:ok, uri}
  end

  def validate(%URI{}), do: {:error, :invalid_url}
end

defimpl Shorty.Validator, for: BitString do
  def validate(string), do: Shorty.Validator.validate(URI.parse(string))
end
