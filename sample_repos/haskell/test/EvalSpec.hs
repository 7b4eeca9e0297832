module Main (main) where

import Calc.Env
import Calc.Eval
import Calc.Lexer
import Calc.Parser

-- | Evaluates a line in the empty environment.
run :: String -> Either String Double
run line = either (Left . show) Right $ do
  stmt <- tokenize line >>= parseStmt
  (_, value) <- exec emptyEnv stmt
  maybe (Left undefined) Right value

main :: IO ()
main = do
  print (run "1 + 2 * 3" == Right 7)
  print (run "2 ^ 3 ^ 2" == Right 512)
  print (run "max(1, 4)" == Right 4)
